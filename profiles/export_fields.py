"""The fields every export of results shares: `result_to_record` and its parts.

`result_to_record` flattens one `RunResult` into the fields the JSON and CSV exports
(`profiles.json_export`, `profiles.csv_export`) share, using llama.cpp's llama-bench names
where one exists (`model_filename`, `model_type`, `model_size`, `model_n_params`,
`n_threads`, `n_gpu_layers`, `n_batch`, `n_prompt`, `n_gen`, `cpu_info`, `gpu_info`,
`backends`, `test_time`) so results line up with the rest of the ecosystem, and
docs/metrics.md's names for everything else. Unknown figures are None (null in JSON,
empty in CSV), never 0.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from engines.units import short_count
from profiles.results import RunResult


def result_to_record(result: RunResult) -> dict[str, Any]:
    """One result as a flat record (JSON values; lists stay lists)."""
    figures, model, sampling = result.figures, result.model, result.sampling
    return {
        "id": result.id,
        "test_time": result.created_at,
        "profile": result.profile,
        "pane_label": result.pane_label,
        "pane_index": result.pane_index,
        "repetition": result.repetition,
        "mode": result.mode,
        "model_ref": result.model_ref,
        "model_filename": model.file_name,
        "model_type": model_type(result),
        "model_size": model.file_size,
        "model_n_params": model.n_params,
        "model_sha256": model.sha256,
        "model_name": model.name,
        "model_architecture": model.architecture,
        "model_quantization": model.quantization,
        "model_n_ctx_train": model.n_ctx_train,
        "model_path": model.path,
        "has_chat_template": model.has_chat_template,
        "n_ctx": model.n_ctx,
        "n_batch": model.n_batch,
        "n_threads": model.n_threads,
        "n_gpu_layers": model.n_gpu_layers_requested,
        "n_gpu_layers_offloaded": model.n_gpu_layers_offloaded,
        "prompt_mode": figures.prompt_mode,
        "n_prompt": figures.prompt_tokens,
        "n_prompt_cached": figures.cached_prompt_tokens,
        "n_gen": figures.generated_tokens,
        "load_s": figures.load_s,
        "ttft_s": figures.ttft_s,
        "prompt_tps": figures.prompt_tps,
        "decode_tps": figures.decode_tps,
        "engine_decode_tps": figures.engine_decode_tps,
        "overhead_ratio": figures.overhead_ratio,
        "sampling_ms_per_token": figures.sampling_ms_per_token,
        "delivery_lag_p95_ms": figures.delivery_lag_p95_ms,
        "elapsed_s": figures.elapsed_s,
        "peak_rss_mib": figures.peak_rss_mib,
        "gpu_mem_mib": figures.gpu_mem_mib,
        "energy_j": figures.energy_j,
        "energy_per_token_j": figures.energy_per_token_j,
        "cpu_energy_j": figures.cpu_energy_j,
        "mean_logprob": figures.mean_logprob,
        "perplexity": figures.perplexity,
        "mean_entropy": figures.mean_entropy,
        "stop_reason": figures.stop_reason,
        "error": figures.error,
        **server_fields(result),
        "temperature": sampling.temperature,
        "top_p": sampling.top_p,
        "top_k": sampling.top_k,
        "min_p": sampling.min_p,
        "repeat_penalty": sampling.repeat_penalty,
        "max_tokens": sampling.max_tokens,
        "stop": list(sampling.stop),
        "seed": sampling.seed,
        "sampling_changes": [change.model_dump() for change in result.sampling_changes],
        "backends": model.backend,
        "llama_cpp_python_version": model.llama_cpp_python_version,
        "llama_cpp_version": model.llama_cpp_version,
        "cpu_info": result.cpu_name,
        "gpu_info": ", ".join(result.gpu_names),
        "hostname": result.host.get("hostname"),
        **fidelity_fields(result),
        "prompt": result.prompt,
        "system_prompt": result.system_prompt,
        "text": result.text,
    }


SERVER_FIELDS = (
    "kv_cache_pct", "requests_running", "requests_waiting", "prompt_tps", "generation_tps",
    "slots_busy", "slots_total", "model_file", "n_ctx",
)  # fmt: skip
"""The figures an `openai:` pane's server publishes about itself (`server_` + name)."""


def server_fields(result: RunResult) -> dict[str, Any]:
    """`server_*` columns: None where the server did not say (or the pane is local)."""
    return {f"server_{name}": getattr(result.figures, f"server_{name}") for name in SERVER_FIELDS}


def fidelity_fields(result: RunResult) -> dict[str, Any]:
    """The fidelity columns (docs/metrics.md): None where the run did not measure them."""
    fidelity = result.fidelity
    return {
        "ppl": fidelity.ppl if fidelity else None,
        "ppl_err": fidelity.ppl_err if fidelity else None,
        "kld": fidelity.kld if fidelity else None,
        "kld_p99": fidelity.kld_p99 if fidelity else None,
        "top1_pct": fidelity.same_top_pct if fidelity else None,
        "dp_mean_pct": fidelity.dp_mean_pct if fidelity else None,
        "fidelity_n_ctx": fidelity.n_ctx if fidelity else None,
        "fidelity_reference": fidelity.reference if fidelity else None,
        "fidelity_note": (fidelity.error or fidelity.note) if fidelity else None,
    }


def model_type(result: RunResult) -> str:
    """llama-bench's model description: architecture, size, quantization (e.g. "llama 1.2B Q4_K_M")."""
    parts = [
        result.model.architecture,
        human_params(result.model.n_params),
        result.model.quantization,
    ]
    return " ".join(part for part in parts if part)


def human_params(n_params: int | None) -> str:
    """A parameter count as people write it (135M, 1.2B); "" when unknown."""
    return short_count(n_params, unknown="")


def common_mode(results: Sequence[RunResult]) -> str | None:
    """The mode every result ran in, "mixed" if they differ, None without results."""
    modes = {result.mode for result in results}
    return modes.pop() if len(modes) == 1 else ("mixed" if modes else None)
