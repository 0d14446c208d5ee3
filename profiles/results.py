"""One record per finished pane: the figures, the answer, every setting and what produced it.

A `RunResult` is built once a pane's generation ends (`RunResult.from_run`), appended to
the history (`profiles.history`) and exported (`profiles.json_export`, `csv_export`, `markdown_export`). It holds the figures
of `docs/metrics.md` exactly as `engines.types.GenerationStats` measured them (None where a
figure is unknown, never 0), the full text, the prompt, the sampling values (seed
included) with any live changes, the load settings, and the provenance: model file,
size, SHA-256, quantization, parameter count, backend, library versions and the host.

Its parts (figures, sampling, model, fidelity) are the records of `profiles.result_parts`;
all are plain pydantic models that survive a JSON round trip unchanged; unknown keys
(from a newer llmbench) are ignored on reading so old and new histories stay readable.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import Field

from engines.types import (
    GenerationRequest,
    GenerationStats,
    ModelInfo,
    ModelSettings,
    TokenProbabilities,
)
from profiles.logprobs import openai_logprobs
from profiles.result_parts import (
    FidelityRecord,
    Figures,
    ModelRecord,
    SamplingChangeRecord,
    SamplingRecord,
    TolerantRecord,
)
from profiles.schema import RunMode
from profiles.suite_record import SuiteRecord

if TYPE_CHECKING:
    from engines.machine.host import HostInfo

RESULT_VERSION = 1
"""Version of the record layout written to the history."""


class RunResult(TolerantRecord):
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
            model=ModelRecord.from_info(info, settings, sha256),
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


def _host_dict(host: HostInfo | dict[str, Any] | None) -> dict[str, Any]:
    if host is None:
        return {}
    if isinstance(host, dict):
        return dict(host)
    return host.to_dict()
