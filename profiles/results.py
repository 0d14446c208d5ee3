"""One record per finished pane: the figures, the answer, every setting and what produced it.

A `RunResult` is built once a pane's generation ends (`RunResult.from_run`), appended to
the history (`profiles.history`) and exported (`profiles.export`). It holds the figures
of `docs/metrics.md` exactly as `engines.types.GenerationStats` measured them (None where a
figure is unknown, never 0), the full text, the prompt, the sampling values (seed
included) with any live changes, the load settings, and the provenance: model file,
size, SHA-256, quantization, parameter count, backend, library versions and the host.

Records are plain pydantic models that survive a JSON round trip unchanged; unknown keys
(from a newer llmbench) are ignored on reading so old and new histories stay readable.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from engines.types import (
    GenerationRequest,
    GenerationStats,
    ModelInfo,
    ModelSettings,
    SamplingParams,
    TokenProbabilities,
)
from profiles.logprobs import openai_logprobs
from profiles.schema import RunMode
from profiles.suite_record import SuiteRecord

if TYPE_CHECKING:
    from engines.machine.host import HostInfo

RESULT_VERSION = 1
"""Version of the record layout written to the history."""


class _Record(BaseModel):
    """Base for result records: tolerant of keys added by newer versions."""

    model_config = ConfigDict(extra="ignore", use_attribute_docstrings=True)


class Figures(_Record):
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


class FidelityRecord(_Record):
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


class SamplingRecord(_Record):
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


class SamplingChangeRecord(_Record):
    """A live sampling change, in force from generated token `at_token`."""

    at_token: int
    sampling: SamplingRecord


class ModelRecord(_Record):
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


class RunResult(_Record):
    """One finished pane: figures, answer, settings and provenance. See the module docstring."""

    result_version: int = RESULT_VERSION
    id: str
    """Short unique id: UTC date and time, then random hex (e.g. 20260301-142501-3fa9c2)."""
    created_at: str
    """When the generation finished, ISO 8601 wall-clock time with its UTC offset."""
    profile: str | None = None
    """The profile the comparison came from, if any."""
    pane_label: str
    pane_index: int | None = None
    repetition: int = 0
    """Which measured repetition of the pane this is (0-based; headless --repeat)."""
    mode: RunMode
    """Whether the panes ran at the same time (speeds not comparable) or one after another."""
    model_ref: str
    """The model reference as the user wrote it (path, demo:..., hf:..., openai:...)."""
    prompt: str
    system_prompt: str | None = None
    text: str
    """The full answer."""
    figures: Figures
    sampling: SamplingRecord
    sampling_changes: list[SamplingChangeRecord] = Field(default_factory=list)
    model: ModelRecord
    host: dict[str, Any] = Field(default_factory=dict)
    """The machine (`engines.machine.host.HostInfo.to_dict()`); {} when unknown."""
    fidelity: FidelityRecord | None = None
    """Perplexity and KLD against the reference, when the run measured them (--fidelity)."""
    logprobs: dict[str, Any] | None = None
    """The answer's token probabilities in OpenAI's `logprobs` shape (`profiles.logprobs`),
    when the run asked for them (`llmbench run --logprobs N`); kept out of the history."""
    suite: SuiteRecord | None = None
    """The suite run, prompt and check results, for an answer of a suite run."""

    @property
    def cpu_name(self) -> str:
        """The host's CPU model, or "" when unknown."""
        return str(self.host.get("cpu_model") or "")

    @property
    def gpu_names(self) -> list[str]:
        """The host's GPU names (NVML), in index order."""
        return [str(gpu.get("name", "")) for gpu in self.host.get("gpus") or []]

    @property
    def created(self) -> datetime:
        """`created_at` as an aware datetime."""
        return datetime.fromisoformat(self.created_at)

    @classmethod
    def from_run(
        cls,
        *,
        info: ModelInfo,
        stats: GenerationStats,
        request: GenerationRequest,
        text: str,
        mode: RunMode,
        host: HostInfo | dict[str, Any] | None = None,
        plan: Any = None,
        settings: ModelSettings | None = None,
        label: str | None = None,
        model_ref: str | None = None,
        profile_name: str | None = None,
        pane_index: int | None = None,
        repetition: int = 0,
        sha256: str | None = None,
        hash_file: bool = True,
        now: datetime | None = None,
        token_probabilities: Sequence[TokenProbabilities] = (),
        top_logprobs: int = 0,
    ) -> RunResult:
        """Build the record of one finished generation.

        `plan` (a `profiles.plan.PanePlan`) supplies the label, model reference, pane index
        and load settings; `settings`, `label`, `model_ref` and `pane_index` override it
        or stand in without a plan. `sha256` is used when given; otherwise, with
        `hash_file`, the local model file is hashed through `engines.models.file_hash` (cached,
        so only the first run of a file pays; call this off the UI thread).
        `token_probabilities` with `top_logprobs` > 0 fill `logprobs`.
        """
        settings = settings or getattr(plan, "settings", None)
        label = label or getattr(plan, "label", None) or settings_label(settings) or info.name
        model_ref = model_ref or getattr(plan, "model_ref", None) or info.path
        if pane_index is None:
            pane_index = getattr(plan, "index", None)
        if sha256 is None and hash_file:
            sha256 = model_sha256(info)
        when = (now or datetime.now(UTC)).astimezone()
        return cls(
            id=new_result_id(when),
            created_at=when.isoformat(timespec="seconds"),
            profile=profile_name,
            pane_label=label,
            pane_index=pane_index,
            repetition=repetition,
            mode=mode,
            model_ref=model_ref,
            prompt=request.prompt,
            system_prompt=request.system_prompt,
            text=text,
            figures=Figures.from_stats(stats, info.load_s),
            sampling=SamplingRecord.from_params(request.sampling),
            sampling_changes=[
                SamplingChangeRecord(
                    at_token=change.at_token, sampling=SamplingRecord.from_params(change.sampling)
                )
                for change in stats.sampling_changes
            ],
            model=_model_record(info, settings, sha256),
            host=_host_dict(host),
            logprobs=(
                openai_logprobs(token_probabilities, top_logprobs) if top_logprobs > 0 else None
            ),
        )


def settings_label(settings: ModelSettings | None) -> str:
    """The label carried by load settings, or ""."""
    return settings.label if settings is not None else ""


def new_result_id(when: datetime | None = None) -> str:
    """A short unique id that sorts by time: `YYYYMMDD-HHMMSS-` + 6 random hex digits (UTC)."""
    moment = (when or datetime.now(UTC)).astimezone(UTC)
    return f"{moment:%Y%m%d-%H%M%S}-{secrets.token_hex(3)}"


def model_sha256(info: ModelInfo) -> str | None:
    """SHA-256 of a local model file through `engines.models.file_hash` (cached); None if unreadable."""
    if info.file_size is None or not Path(info.path).is_file():
        return None
    from engines.models.file_hash import file_sha256

    try:
        return file_sha256(info.path)
    except OSError:
        return None


def _model_record(
    info: ModelInfo, settings: ModelSettings | None, sha256: str | None
) -> ModelRecord:
    return ModelRecord(
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


def _host_dict(host: HostInfo | dict[str, Any] | None) -> dict[str, Any]:
    if host is None:
        return {}
    if isinstance(host, dict):
        return dict(host)
    return host.to_dict()
