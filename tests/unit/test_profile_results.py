"""RunResult: every figure, setting and provenance field recorded, and a lossless JSON round trip."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from result_samples import HOST, make_result, model_info, stats

from engines.types import GenerationRequest, ModelSettings, SamplingParams
from profiles.results import RunResult, new_result_id


def test_figures_are_copied_from_the_stats_unchanged() -> None:
    result = make_result()
    source = stats()
    figures = result.figures
    assert figures.stop_reason == "length"
    assert figures.prompt_mode == "chat"
    assert figures.prompt_tokens == source.prompt_tokens
    assert figures.cached_prompt_tokens == source.cached_prompt_tokens
    assert figures.generated_tokens == source.generated_tokens
    assert figures.ttft_s == source.ttft_s
    assert figures.prompt_tps == source.prompt_tps
    assert figures.decode_tps == source.decode_tps
    assert figures.engine_decode_tps == source.engine_decode_tps
    assert figures.overhead_ratio == pytest.approx(source.decode_tps / source.engine_decode_tps)
    assert figures.delivery_lag_p95_ms == source.delivery_lag_p95_ms
    assert figures.peak_rss_mib == source.peak_rss_mib
    assert figures.cpu_energy_j == source.cpu_energy_j
    assert figures.load_s == model_info().load_s


def test_unknown_figures_stay_unknown_not_zero() -> None:
    result = make_result(run_stats=stats(decode_tps=None, energy_j=None, generated_tokens=1))
    assert result.figures.decode_tps is None
    assert result.figures.overhead_ratio is None
    assert result.figures.energy_j is None
    assert result.figures.energy_per_token_j is None
    assert result.figures.gpu_mem_mib is None


def test_energy_per_token_is_derived() -> None:
    result = make_result(run_stats=stats(energy_j=24.0, generated_tokens=48))
    assert result.figures.energy_per_token_j == pytest.approx(0.5)


def test_settings_sampling_and_live_changes_are_recorded() -> None:
    result = make_result(temperature=0.2)
    assert result.sampling.to_params() == SamplingParams(
        temperature=0.2, seed=7, stop=("\n\n",), max_tokens=48
    )
    assert [(c.at_token, c.sampling.temperature) for c in result.sampling_changes] == [(10, 1.1)]
    assert result.model.n_batch == 256
    assert result.model.rpc_servers == ["h:50052"]
    assert result.prompt == "The three most important things"
    assert result.system_prompt == "Be brief."


def test_provenance_is_recorded() -> None:
    result = make_result()
    info = model_info()
    model = result.model
    assert (model.file_name, model.file_size, model.sha256) == (
        info.file_name,
        info.file_size,
        "ab" * 32,
    )
    assert (model.quantization, model.n_params, model.n_ctx) == ("Q4_1", info.n_params, 1024)
    assert (model.n_threads, model.n_gpu_layers_requested, model.n_gpu_layers_offloaded) == (
        2,
        0,
        0,
    )
    assert (model.backend, model.llama_cpp_python_version, model.llama_cpp_version) == (
        "CPU",
        "0.3.36",
        "b6000",
    )
    assert model.load_warnings == ["a load warning"]
    assert result.cpu_name == "AMD EPYC 7B13"
    assert result.gpu_names == ["NVIDIA H100"]
    assert (result.mode, result.profile, result.model_ref) == (
        "parallel",
        "small-vs-large",
        "demo:smollm2-135m",
    )


def test_label_comes_from_settings_when_not_given() -> None:
    assert make_result(label="tiny").pane_label == "tiny"


def test_plan_supplies_label_ref_index_and_settings() -> None:
    class Plan:
        index = 2
        label = "from plan"
        model_ref = "hf:owner/repo:Q4_K_M"
        settings = ModelSettings(path="/m.gguf", n_batch=128)

    result = RunResult.from_run(
        info=model_info(),
        stats=stats(),
        request=GenerationRequest(prompt="p"),
        text="t",
        mode="sequential",
        plan=Plan(),
        hash_file=False,
    )
    assert (result.pane_label, result.model_ref, result.pane_index, result.model.n_batch) == (
        "from plan",
        "hf:owner/repo:Q4_K_M",
        2,
        128,
    )
    assert result.host == {}
    assert result.model.sha256 is None


def test_ids_are_short_unique_and_sort_by_time() -> None:
    early = new_result_id(datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC))
    assert re.fullmatch(r"20260102-030405-[0-9a-f]{6}", early)
    later = new_result_id(datetime(2026, 1, 2, 3, 4, 6, tzinfo=UTC))
    assert early < later
    assert len({new_result_id() for _ in range(200)}) == 200


def test_created_at_is_an_aware_timestamp() -> None:
    result = make_result(when=datetime(2026, 3, 1, 14, 25, 1, tzinfo=UTC))
    assert result.created == datetime(2026, 3, 1, 14, 25, 1, tzinfo=UTC)
    assert result.id.startswith("20260301-142501-")


def test_json_round_trip_is_lossless() -> None:
    result = make_result(text="Ünïcode ✓ and\nnew lines")
    assert RunResult.model_validate_json(result.model_dump_json()) == result


def test_keys_from_a_newer_llmbench_are_ignored_on_reading() -> None:
    result = make_result()
    data = result.model_dump(mode="json")
    data["added_later"] = 1
    data["figures"]["new_figure"] = 2.0
    assert RunResult.model_validate(data) == result


def test_sha256_of_a_local_file_is_computed_through_the_file_hash_cache(tmp_path: Path) -> None:
    model_file = tmp_path / "m.gguf"
    model_file.write_bytes(b"GGUF" + bytes(1000))
    info = model_info(path=str(model_file), file_name="m.gguf", file_size=1004)
    result = RunResult.from_run(
        info=info,
        stats=stats(),
        request=GenerationRequest(prompt="p"),
        text="",
        mode="parallel",
        host=HOST,
    )
    assert result.model.sha256 == hashlib.sha256(model_file.read_bytes()).hexdigest()


def test_no_hash_for_a_model_served_elsewhere() -> None:
    info = model_info(path="http://127.0.0.1:8080/v1#m", file_size=None)
    result = RunResult.from_run(
        info=info, stats=stats(), request=GenerationRequest(prompt="p"), text="", mode="parallel"
    )
    assert result.model.sha256 is None
