"""`llmbench run` end to end: the real console script, the real demo models, no TTY (as in CI).

Generations are kept short (a few tokens, a small context) so the whole file stays well
under two minutes. Every run is also checked for what must never happen: a traceback.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from profiles.history import read_history

LLMBENCH = Path(sys.executable).parent / "llmbench"
SMOL = "demo:smollm2-135m"
GEMMA = "demo:gemma3-270m"
SHORT = ("--max-tokens", "8", "--n-ctx", "512")
PROMPT = "The sky is blue because"

LLAMA_BENCH_FIELDS = (
    "model_filename", "model_type", "model_size", "model_n_params",
    "n_threads", "n_gpu_layers", "n_prompt", "n_gen",
)  # fmt: skip
OTHER_FIELDS = (
    "ttft_s", "prompt_tps", "decode_tps", "engine_decode_tps", "load_s", "peak_rss_mib",
    "gpu_mem_mib", "energy_j", "stop_reason", "temperature", "seed", "text",
)  # fmt: skip


@pytest.fixture(scope="module")
def shared_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One cache dir for the module, so Gemma is assembled and each model hashed only once."""
    return tmp_path_factory.mktemp("llmbench-cache")


@pytest.fixture
def llmbench(shared_cache: Path, isolated_dirs: Path):
    """Runs `llmbench run ARGS...` as a subprocess with no terminal attached."""

    def run(
        *args: str, stdin: str | None = None, timeout: float = 150
    ) -> subprocess.CompletedProcess:
        env = {**os.environ, "LLMBENCH_CACHE_DIR": str(shared_cache)}
        result = subprocess.run(
            [str(LLMBENCH), "run", *args],
            input=stdin,
            stdin=None if stdin is not None else subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
            env=env,
            cwd=isolated_dirs,
        )
        assert "Traceback" not in result.stderr + result.stdout, result.stderr
        assert "\x1b[" not in result.stderr  # no terminal: plain progress lines, no redraws
        return result

    return run


def table_rows(stdout: str) -> list[str]:
    """The table's data rows (after the caption and the header)."""
    lines = stdout.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("pane "))
    rows = []
    for line in lines[header + 1 :]:
        if not line.strip():
            break
        rows.append(line)
    return rows


def read_json(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.mark.real_model
def test_two_model_profile_sequential_with_json_and_csv(llmbench, tmp_path: Path) -> None:
    """The issue's `llmbench run --profile small-vs-large --prompt "..." --json out.json`."""
    out_json, out_csv = tmp_path / "out.json", tmp_path / "out.csv"
    result = llmbench(
        "--profile", "small-vs-large", "--prompt", PROMPT, "--max-tokens", "8",
        "--temperature", "0.3", "--seed", "7", "--json", str(out_json), "--csv", str(out_csv),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    rows = table_rows(result.stdout)
    assert len(rows) == 2
    assert rows[0].startswith("SmolLM2 135M (chat)") and SMOL in rows[0]
    assert rows[1].startswith("Gemma 3 270M (base)") and GEMMA in rows[1]
    assert "Mode: sequential" in result.stdout
    assert "[1/2]" in result.stderr and "[2/2]" in result.stderr and "run 1/1" in result.stderr

    document = read_json(out_json)
    assert document["mode"] == "sequential"  # headless default, though the profile says parallel
    assert document["host"]["cpu_model"] and document["host"]["physical_cores"] >= 1
    records = document["results"]
    assert [r["model_ref"] for r in records] == [SMOL, GEMMA]
    assert {r["profile"] for r in records} == {"small-vs-large"}
    assert {r["n_ctx"] for r in records} == {2048}  # the profile's settings are kept
    smol, gemma = records
    for record in records:
        for name in LLAMA_BENCH_FIELDS + OTHER_FIELDS:
            assert name in record, name
        assert record["mode"] == "sequential"
        assert 1 <= record["n_gen"] <= 8
        assert record["n_prompt"] > 0
        assert record["temperature"] == 0.3 and record["seed"] == 7
        assert record["stop_reason"] in ("stop", "length")
        assert record["text"].strip()
        assert record["ttft_s"] > 0 and record["load_s"] > 0
        assert record["peak_rss_mib"] > 50
        assert record["n_gpu_layers"] == 0
        assert record["n_threads"] >= 1
        if not document["host"]["gpus"]:  # no GPU: unknown, never 0
            assert record["gpu_mem_mib"] is None and record["energy_j"] is None
        if record["n_gen"] >= 2:
            assert record["decode_tps"] > 0 and record["engine_decode_tps"] > 0
    assert smol["model_filename"] == "SmolLM2-135M-Instruct.Q4_1.gguf"
    assert smol["model_type"].startswith("llama") and "Q4_1" in smol["model_type"]
    assert 100_000_000 < smol["model_n_params"] < 200_000_000
    assert gemma["model_filename"].endswith(".gguf") and gemma["model_type"].startswith("gemma3")
    assert gemma["model_size"] > smol["model_size"]
    assert smol["prompt_mode"] == "chat" and gemma["prompt_mode"] == "completion"

    with out_csv.open(newline="", encoding="utf-8") as handle:
        csv_rows = list(csv.DictReader(handle))
    assert len(csv_rows) == 2
    for row, record in zip(csv_rows, records, strict=True):
        for name in LLAMA_BENCH_FIELDS + ("stop_reason", "text", "mode", "model_ref"):
            assert row[name] == str(record[name]), name
        for name in ("ttft_s", "decode_tps", "temperature", "peak_rss_mib"):
            assert float(row[name]) == pytest.approx(record[name]), name
        if record["gpu_mem_mib"] is None:
            assert row["gpu_mem_mib"] == ""  # unknown is empty, never 0

    history, warnings = read_history()
    assert warnings == [] and [r.model_ref for r in history] == [SMOL, GEMMA]


@pytest.mark.real_model
def test_temperature_grid_runs_every_model_at_every_temperature(llmbench, tmp_path: Path) -> None:
    out_json, out_md = tmp_path / "grid.json", tmp_path / "grid.md"
    result = llmbench(
        "-m", SMOL, "-m", GEMMA, "--prompt", PROMPT, "--max-tokens", "4", "--n-ctx", "512",
        "--temperature", "0.2,1.2", "--parallel", "--json", str(out_json),
        "--markdown", str(out_md), "--show-text",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    rows = table_rows(result.stdout)
    assert len(rows) == 4
    assert "Mode: parallel" in result.stdout
    records = read_json(out_json)["results"]
    assert [(r["model_ref"], r["temperature"]) for r in records] == [
        (model, temperature) for model in (SMOL, GEMMA) for temperature in (0.2, 1.2)
    ]
    assert {r["mode"] for r in records} == {"parallel"}
    assert [r["pane_label"].rsplit("temp=", 1)[1] for r in records] == ["0.2", "1.2"] * 2
    # Four panes at once share the cores: each got its share, not all of them.
    from engines.machine.threads import default_threads

    assert {r["n_threads"] for r in records} == {default_threads(4)}
    markdown = out_md.read_text(encoding="utf-8")
    for record in records:
        assert record["pane_label"] in markdown and record["text"].strip()[:10] in markdown
        assert record["text"].strip() in result.stdout  # --show-text


@pytest.mark.real_model
def test_repeat_reports_mean_and_standard_deviation(llmbench, tmp_path: Path) -> None:
    prompt_file = tmp_path / "prompt.txt"
    prompt_file.write_text("Name three colours.\n", encoding="utf-8")
    out_json = tmp_path / "repeat.json"
    result = llmbench(
        "-m", SMOL, "--prompt-file", str(prompt_file), *SHORT, "--repeat", "3", "--warmup", "1",
        "--json", str(out_json),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    (row,) = table_rows(result.stdout)
    assert row.count("±") >= 5  # n_prompt, n_gen, TTFT and the speeds
    assert "mean ± standard deviation" in result.stdout
    assert "warm-up 1/1" in result.stderr and "run 3/3" in result.stderr
    records = read_json(out_json)["results"]
    assert [r["repetition"] for r in records] == [0, 1, 2]
    assert {r["prompt"] for r in records} == {"Name three colours."}
    assert "runs warm" in result.stdout  # after the warm-up, every run reuses the prompt cache
    assert all(r["n_prompt_cached"] > 0 for r in records)
    ttfts = [r["ttft_s"] for r in records]
    mean = sum(ttfts) / 3
    assert f"{mean:.3f} ±" in row
    assert len(read_history()[0]) == 3  # warm-ups are not recorded


@pytest.mark.real_model
def test_prompt_from_standard_input(llmbench, tmp_path: Path) -> None:
    out_json = tmp_path / "stdin.json"
    result = llmbench(
        "-m", SMOL, "--prompt", "-", "--max-tokens", "4", "--n-ctx", "512",
        "--system", "Answer in one word.", "--json", str(out_json),
        stdin="What colour is grass?\n",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    (record,) = read_json(out_json)["results"]
    assert record["prompt"] == "What colour is grass?"
    assert record["system_prompt"] == "Answer in one word."


@pytest.mark.real_model
def test_a_missing_model_fails_its_pane_and_the_other_is_reported(llmbench, tmp_path: Path) -> None:
    missing = tmp_path / "no-such-model.gguf"
    out_json = tmp_path / "partial.json"
    result = llmbench(
        "-m", str(missing), "-m", SMOL, "--prompt", PROMPT, *SHORT, "--json", str(out_json)
    )
    assert result.returncode == 1
    rows = table_rows(result.stdout)
    assert rows[0].rstrip().endswith("FAILED")
    assert rows[1].rstrip().endswith(("length", "stop"))
    assert "Failed panes:" in result.stdout
    failure_line = next(line for line in result.stdout.splitlines() if line.startswith("  [1] "))
    reason = failure_line.split("): ", 1)[1]
    assert str(missing) in reason and ("no such" in reason or "not found" in reason), reason
    assert "FAILED" in result.stderr
    records = read_json(out_json)["results"]  # every row of the table, with its stop reason
    assert [r["model_ref"] for r in records] == [str(missing), SMOL]
    assert records[0]["stop_reason"] == "error" and records[0]["error"] == reason
    assert records[0]["n_gen"] == 0 and records[0]["decode_tps"] is None
    assert records[1]["stop_reason"] in ("length", "stop")
    assert len(read_history()[0]) == 1  # the failure is no history


@pytest.mark.real_model
def test_a_broken_gguf_beside_a_good_one_exits_1(
    llmbench, tmp_path: Path, smollm2_path: Path
) -> None:
    broken = tmp_path / "broken.gguf"
    with smollm2_path.open("rb") as source, broken.open("wb") as target:
        target.write(source.read(2_000_000))  # a download cut short
    result = llmbench("-m", SMOL, "-m", str(broken), "--prompt", PROMPT, *SHORT)
    assert result.returncode == 1
    rows = table_rows(result.stdout)
    assert "FAILED" not in rows[0] and "FAILED" in rows[1]
    failure_line = next(line for line in result.stdout.splitlines() if line.startswith("  [2] "))
    reason = failure_line.split("): ", 1)[1].lower()
    assert "broken.gguf" in reason
    assert any(word in reason for word in ("truncated", "corrupt", "incomplete")), reason


def test_a_bad_profile_exits_2_with_one_line(llmbench, tmp_path: Path) -> None:
    profile = tmp_path / "typo.toml"
    profile.write_text(
        'name = "typo"\nprompt = "Hi"\n[sampling]\ntemprature = 0.5\n[[panes]]\nmodel = "demo:smollm2-135m"\n',
        encoding="utf-8",
    )
    result = llmbench("--profile", str(profile))
    assert result.returncode == 2
    assert result.stdout == ""
    (line,) = result.stderr.strip().splitlines()
    assert "temprature" in line and "did you mean 'temperature'" in line and "typo.toml" in line


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "nothing to run"),
        (("-m", SMOL), "no prompt"),
        (("-m", SMOL, "--prompt", "x", "--temperature", "0.2,3"), "--temperature"),
        (("-m", SMOL, "--prompt", "x", "--temperature", "warm"), "expected numbers"),
        (("-m", SMOL, "--prompt", "x", "--prompt-file", "f.txt"), "not both"),
        (("-m", SMOL, "--prompt-file", "missing.txt"), "cannot read the prompt file missing.txt"),
        (("--profile", "no-such-profile", "--prompt", "x"), "no-such-profile"),
        (("-m", SMOL, "--prompt", "x", "--repeat", "0"), "--repeat"),
        (("-m", SMOL, "--prompt", "x", "--n-ctx", "64"), "--n-ctx: input should be greater"),
        (("-m", SMOL, "-m", SMOL, "--prompt", "x", "--seed", ",".join("123456789")), "at most 16"),
    ],
)
def test_bad_usage_exits_2_with_one_line(llmbench, args: tuple[str, ...], message: str) -> None:
    result = llmbench(*args)
    assert result.returncode == 2, result.stderr
    assert message in result.stderr
    assert result.stdout == ""


@pytest.mark.real_model
def test_a_full_disk_under_the_history_keeps_the_results_for_the_export(
    llmbench, tmp_path: Path, isolated_dirs: Path
) -> None:
    """The history on a full disk (/dev/full: Errno 28, no file named), the export elsewhere."""
    from profiles.history import history_path

    history = history_path()
    history.parent.mkdir(parents=True, exist_ok=True)
    history.symlink_to("/dev/full")
    out = tmp_path / "out.json"
    result = llmbench("-m", SMOL, "--prompt", PROMPT, *SHORT, "--repeat", "2", "--json", str(out))
    assert result.returncode == 0, result.stderr
    assert len(read_json(out)["results"]) == 2
    assert str(history) in result.stderr and "--no-history" in result.stderr


@pytest.mark.real_model
def test_a_generation_past_the_deadline_fails_its_pane(llmbench) -> None:
    result = llmbench(
        "-m", SMOL, "--prompt", "Write a long story about a lighthouse keeper.",
        "--max-tokens", "2000", "--n-ctx", "2048", "--deadline", "0.5",
    )  # fmt: skip
    assert result.returncode == 1, result.stderr
    assert "no end after 0.5 s" in result.stdout
