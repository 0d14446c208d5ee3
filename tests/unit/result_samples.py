"""Realistic results for the results, history, export and CLI tests (no model needed)."""

from __future__ import annotations

from datetime import UTC, datetime

from engines.types import (
    GenerationRequest,
    GenerationStats,
    ModelInfo,
    ModelSettings,
    SamplingChange,
    SamplingParams,
)
from profiles.results import RunResult

HOST = {
    "hostname": "bench-box",
    "os": "Linux 6.8.0",
    "python_version": "3.11.7",
    "cpu_model": "AMD EPYC 7B13",
    "physical_cores": 2,
    "logical_cores": 2,
    "ram_total_bytes": 8 * 1024**3,
    "gpus": [
        {
            "index": 0,
            "name": "NVIDIA H100",
            "memory_total_bytes": 80 * 1024**3,
            "driver_version": "550",
        }
    ],
    "gpu_note": "",
}


def model_info(file_name: str = "SmolLM2-135M-Instruct.Q4_1.gguf", **changes: object) -> ModelInfo:
    values: dict = dict(
        path=f"/models/{file_name}",
        file_name=file_name,
        file_size=98_765_432,
        name="SmolLM2 135M Instruct",
        architecture="llama",
        n_params=134_515_008,
        quantization="Q4_1",
        n_ctx_train=8192,
        n_ctx=1024,
        n_layers=30,
        has_chat_template=True,
        backend="CPU",
        n_gpu_layers_requested=0,
        n_gpu_layers_offloaded=0,
        n_threads=2,
        llama_cpp_python_version="0.3.36",
        llama_cpp_version="b6000",
        load_s=0.42,
        warnings=("a load warning",),
    )
    values.update(changes)
    return ModelInfo(**values)


def stats(**changes: object) -> GenerationStats:
    values: dict = dict(
        stop_reason="length",
        prompt_mode="chat",
        prompt_tokens=31,
        generated_tokens=48,
        ttft_s=0.125,
        prompt_tps=812.5,
        decode_tps=201.25,
        engine_decode_tps=215.0,
        sampling_ms_per_token=0.05,
        delivery_lag_p95_ms=3.5,
        elapsed_s=0.36,
        peak_rss_mib=180.0,
        gpu_mem_mib=None,
        energy_j=None,
        cpu_energy_j=2.5,
        cached_prompt_tokens=4,
        sampling_changes=(
            SamplingChange(at_token=10, sampling=SamplingParams(temperature=1.1, seed=7)),
        ),
    )
    values.update(changes)
    return GenerationStats(**values)


def make_result(
    label: str = "small",
    text: str = "Black holes are regions of spacetime.",
    temperature: float = 0.7,
    mode: str = "parallel",
    when: datetime | None = None,
    info: ModelInfo | None = None,
    run_stats: GenerationStats | None = None,
    **changes: object,
) -> RunResult:
    sampling = SamplingParams(temperature=temperature, seed=7, stop=("\n\n",), max_tokens=48)
    request = GenerationRequest(
        prompt="The three most important things", sampling=sampling, system_prompt="Be brief."
    )
    settings = ModelSettings(
        path="/models/x.gguf", n_ctx=1024, n_batch=256, label=label, rpc_servers=("h:50052",)
    )
    return RunResult.from_run(
        info=info or model_info(),
        stats=run_stats or stats(),
        request=request,
        text=text,
        mode=mode,  # type: ignore[arg-type]
        host=HOST,
        settings=settings,
        model_ref="demo:smollm2-135m",
        profile_name="small-vs-large",
        pane_index=0,
        sha256="ab" * 32,
        now=when or datetime(2026, 3, 1, 14, 25, 1, tzinfo=UTC),
        **changes,  # type: ignore[arg-type]
    )
