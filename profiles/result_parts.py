"""The parts a `profiles.results.RunResult` is made of: figures, sampling, model, fidelity.

Each part is a plain pydantic record built from what the engine reported (`Figures` from
`engines.types.GenerationStats`, `SamplingRecord` from `SamplingParams`, `ModelRecord`
from `ModelInfo` and the load settings, `FidelityRecord` from the fidelity figures), and
each survives a JSON round trip unchanged. Unknown keys (from a newer llmbench) are
ignored on reading (`TolerantRecord`), so old and new histories stay readable.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from engines.types import GenerationStats, ModelInfo, ModelSettings, SamplingParams


class TolerantRecord(BaseModel):
    """Base for result records: tolerant of keys added by newer versions."""

    model_config = ConfigDict(extra="ignore", use_attribute_docstrings=True)


class Figures(TolerantRecord):
    """The figures of docs/metrics.md for one generation (None: unknown, shown "—")."""

    stop_reason: Literal["stop", "length", "context_full", "cancelled", "error"]
    prompt_mode: Literal["chat", "completion"]
    prompt_tokens: int | None
    """Tokens of the prompt after the chat template (llama-bench: n_prompt); None: unknown."""
    cached_prompt_tokens: int = 0
    """Prompt tokens reused from llama.cpp's prompt cache."""
    generated_tokens: int
    """Tokens sampled, stop token excluded (llama-bench: n_gen)."""
    load_s: float | None = None
    ttft_s: float | None = None
    prompt_tps: float | None = None
    decode_tps: float | None = None
    engine_decode_tps: float | None = None
    overhead_ratio: float | None = None
    sampling_ms_per_token: float | None = None
    delivery_lag_p95_ms: float | None = None
    elapsed_s: float | None = None
    peak_rss_mib: float | None = None
    gpu_mem_mib: float | None = None
    energy_j: float | None = None
    energy_per_token_j: float | None = None
    cpu_energy_j: float | None = None
    error: str | None = None
    """Why the generation failed, when stop_reason is "error"."""
    mean_logprob: float | None = None
    """Mean ln(probability) of the answer's tokens as the sampler saw them (docs/metrics.md);
    None when token probabilities were off."""
    perplexity: float | None = None
    """exp(−mean_logprob)."""
    mean_entropy: float | None = None
    """Mean entropy (nats) of the sampler's distribution per token."""
    server_kv_cache_pct: float | None = None
    """An `openai:` pane's server: its KV cache use after the answer (%)."""
    server_requests_running: int | None = None
    server_requests_waiting: int | None = None
    server_prompt_tps: float | None = None
    """The server's own average prompt throughput (all its requests), tokens/s."""
    server_generation_tps: float | None = None
    """The server's own average generation throughput (all its requests), tokens/s."""
    server_slots_busy: int | None = None
    server_slots_total: int | None = None
    server_model_file: str | None = None
    server_n_ctx: int | None = None

    @classmethod
    def from_stats(cls, stats: GenerationStats, load_s: float | None) -> Figures:
        """The figures of `stats`, with the model's load time."""
        server = stats.server
        return cls(
            **(
                {f"server_{name}": value for name, value in asdict(server).items()}
                if server is not None
                else {}
            ),
            stop_reason=stats.stop_reason,
            prompt_mode=stats.prompt_mode,
            prompt_tokens=stats.prompt_tokens,
            cached_prompt_tokens=stats.cached_prompt_tokens,
            generated_tokens=stats.generated_tokens,
            load_s=load_s,
            ttft_s=stats.ttft_s,
            prompt_tps=stats.prompt_tps,
            decode_tps=stats.decode_tps,
            engine_decode_tps=stats.engine_decode_tps,
            overhead_ratio=stats.overhead_ratio,
            sampling_ms_per_token=stats.sampling_ms_per_token,
            delivery_lag_p95_ms=stats.delivery_lag_p95_ms,
            elapsed_s=stats.elapsed_s,
            peak_rss_mib=stats.peak_rss_mib,
            gpu_mem_mib=stats.gpu_mem_mib,
            energy_j=stats.energy_j,
            energy_per_token_j=stats.energy_per_token_j,
            cpu_energy_j=stats.cpu_energy_j,
            error=stats.error,
            mean_logprob=stats.mean_logprob,
            perplexity=stats.perplexity,
            mean_entropy=stats.mean_entropy,
        )


class FidelityRecord(TolerantRecord):
    """A pane's fidelity figures (`llmbench run --fidelity`; docs/metrics.md, "Fidelity")."""

    ppl: float | None = None
    ppl_err: float | None = None
    kld: float | None = None
    kld_p99: float | None = None
    same_top_pct: float | None = None
    dp_mean_pct: float | None = None
    n_ctx: int = 0
    scored_tokens: int = 0
    tokens_per_s: float | None = None
    reference: str = ""
    """The reference pane's label ("" when none)."""
    is_reference: bool = False
    text_sha256: str = ""
    note: str | None = None
    error: str | None = None

    @classmethod
    def from_figures(cls, figures: Any, text_sha256: str = "") -> FidelityRecord:
        """From an `engines.fidelity.FidelityFigures`."""
        return cls(
            ppl=figures.ppl,
            ppl_err=figures.ppl_err,
            kld=figures.kld,
            kld_p99=figures.kld_p99,
            same_top_pct=figures.same_top_pct,
            dp_mean_pct=figures.dp_mean_pct,
            n_ctx=figures.n_ctx,
            scored_tokens=figures.scored_tokens,
            tokens_per_s=figures.tokens_per_s,
            reference=figures.reference_label,
            is_reference=figures.is_reference,
            text_sha256=text_sha256,
            note=figures.note,
            error=figures.error or ("cancelled" if figures.cancelled else None),
        )


class SamplingRecord(TolerantRecord):
    """The sampling values a generation really used (no range checks: a record, not input)."""

    temperature: float
    top_p: float
    top_k: int
    min_p: float
    repeat_penalty: float
    max_tokens: int
    stop: list[str] = Field(default_factory=list)
    seed: int

    @classmethod
    def from_params(cls, params: SamplingParams) -> SamplingRecord:
        """The record of engine sampling values."""
        return cls(
            temperature=params.temperature,
            top_p=params.top_p,
            top_k=params.top_k,
            min_p=params.min_p,
            repeat_penalty=params.repeat_penalty,
            max_tokens=params.max_tokens,
            stop=list(params.stop),
            seed=params.seed,
        )

    def to_params(self) -> SamplingParams:
        """Back to engine sampling values (e.g. to re-run with the same settings)."""
        return SamplingParams(**{**self.model_dump(), "stop": tuple(self.stop)})


class SamplingChangeRecord(TolerantRecord):
    """A live sampling change, in force from generated token `at_token`."""

    at_token: int
    sampling: SamplingRecord


class ModelRecord(TolerantRecord):
    """The model that produced a result: which file, what it is, and how it was loaded."""

    path: str
    file_name: str
    file_size: int | None = None
    """Bytes on disk (all shards); None for a model served elsewhere."""
    sha256: str | None = None
    """SHA-256 of the file, when computed (cached by path, size and mtime)."""
    name: str = ""
    architecture: str = ""
    quantization: str | None = None
    n_params: int | None = None
    n_ctx_train: int | None = None
    n_layers: int | None = None
    has_chat_template: bool = False
    n_ctx: int
    n_batch: int | None = None
    n_threads: int | None = None
    n_gpu_layers_requested: int
    n_gpu_layers_offloaded: int
    allow_oversize: bool = False
    rpc_servers: list[str] = Field(default_factory=list)
    backend: str = ""
    llama_cpp_python_version: str = ""
    llama_cpp_version: str = ""
    load_warnings: list[str] = Field(default_factory=list)

    @classmethod
    def from_info(
        cls, info: ModelInfo, settings: ModelSettings | None, sha256: str | None
    ) -> ModelRecord:
        """The record of a loaded model and the settings it was loaded with."""
        return cls(
            path=info.path,
            file_name=info.file_name,
            file_size=info.file_size,
            sha256=sha256,
            name=info.name,
            architecture=info.architecture,
            quantization=info.quantization,
            n_params=info.n_params,
            n_ctx_train=info.n_ctx_train,
            n_layers=info.n_layers,
            has_chat_template=info.has_chat_template,
            n_ctx=info.n_ctx,
            n_batch=settings.n_batch if settings is not None else None,
            n_threads=info.n_threads,
            n_gpu_layers_requested=info.n_gpu_layers_requested,
            n_gpu_layers_offloaded=info.n_gpu_layers_offloaded,
            allow_oversize=settings.allow_oversize if settings is not None else False,
            rpc_servers=list(settings.rpc_servers) if settings is not None else [],
            backend=info.backend,
            llama_cpp_python_version=info.llama_cpp_python_version,
            llama_cpp_version=info.llama_cpp_version,
            load_warnings=list(info.warnings),
        )
