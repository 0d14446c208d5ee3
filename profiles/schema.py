"""The profile schema: a comparison a user wants to come back to, as typed data.

A profile names the prompt, the run mode, the default sampling values and one pane per
model. It is stored as TOML (see `profiles.store`); this module only defines and
validates the shape. Every range is stated in the field's constraints, so a validation
error can say what is allowed (`profiles.store.ProfileError` turns pydantic's errors
into one-line messages that name the file and the key).

Defaults match `engines.types.SamplingParams` and `engines.types.ModelSettings`, so a
profile that leaves a value out runs exactly as the engine would by default.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)
from pydantic.fields import FieldInfo

from engines.sampling_ranges import SAMPLING_RANGES
from engines.types import ModelSettings, SamplingParams
from profiles.suite import SuitePrompt

CURRENT_VERSION = 1
"""The newest profile format this llmbench reads and the one it writes."""

_ENGINE_SAMPLING = SamplingParams()
_ENGINE_SETTINGS = ModelSettings(path="")

# --- Shared value types (one range per value, used by defaults and overrides alike) ------


def _bounds(name: str) -> FieldInfo:
    """A pydantic field limited to the range `engines.sampling_ranges` states for `name`."""
    bounds = SAMPLING_RANGES[name]
    if bounds.low_open:
        return Field(gt=bounds.low, le=bounds.high)
    return Field(ge=bounds.low, le=bounds.high)


Temperature = Annotated[float, _bounds("temperature")]
"""0 (greedy) to 2."""
TopP = Annotated[float, _bounds("top_p")]
"""Above 0 (0 would keep no token), at most 1."""
TopK = Annotated[int, _bounds("top_k")]
"""0 turns top-k off."""
MinP = Annotated[float, _bounds("min_p")]
RepeatPenalty = Annotated[float, _bounds("repeat_penalty")]
"""1 means no penalty; above 1 discourages repeats."""
MaxTokens = Annotated[int, _bounds("max_tokens")]
Seed = Annotated[int, _bounds("seed")]
StopString = Annotated[str, StringConstraints(min_length=1)]

_SAMPLING_FIELDS = (
    "temperature",
    "top_p",
    "top_k",
    "min_p",
    "repeat_penalty",
    "max_tokens",
    "stop",
    "seed",
)

PROFILE_NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"
_ENV_VAR_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]*$"
_RPC_SERVER_PATTERN = r"^[^\s:]+:[0-9]{1,5}$"


SeedMode = Literal["fixed", "new"]
"""How runs are seeded: the profile's seed every time, or a new seed per run."""

RunMode = Literal["parallel", "sequential"]
"""Panes at the same time, or one after another (sequential: speeds comparable)."""


class _Strict(BaseModel):
    """Base for every profile table: unknown keys are errors, field docstrings are descriptions."""

    model_config = ConfigDict(
        extra="forbid",
        validate_assignment=True,
        use_attribute_docstrings=True,
    )


class SamplingValues(_Strict):
    """The profile's default sampling values; every pane uses them unless it overrides one."""

    temperature: Temperature = _ENGINE_SAMPLING.temperature
    """Randomness of sampling, 0 (greedy, focused) to 2 (very creative, often nonsense)."""
    top_p: TopP = _ENGINE_SAMPLING.top_p
    """Nucleus sampling: keep the smallest set of tokens whose probabilities add up to
    this (above 0, at most 1)."""
    top_k: TopK = _ENGINE_SAMPLING.top_k
    """Keep only the k most likely tokens (0 to 1000; 0 turns it off)."""
    min_p: MinP = _ENGINE_SAMPLING.min_p
    """Drop tokens less likely than this fraction of the most likely one (0 to 1)."""
    repeat_penalty: RepeatPenalty = _ENGINE_SAMPLING.repeat_penalty
    """Penalty on repeated tokens (above 0, at most 2; 1 means none)."""
    max_tokens: MaxTokens = _ENGINE_SAMPLING.max_tokens
    """Most tokens to generate per answer (1 to 32768)."""
    stop: list[StopString] = Field(default_factory=lambda: list(_ENGINE_SAMPLING.stop))
    """Strings that end the answer when generated (each non-empty)."""
    seed: Seed = _ENGINE_SAMPLING.seed
    """Random seed (0 to 4294967295): same model, prompt, values and seed give the same text."""

    def to_params(self) -> SamplingParams:
        """These values as the engine's `SamplingParams`."""
        values = {name: getattr(self, name) for name in _SAMPLING_FIELDS}
        values["stop"] = tuple(self.stop)
        return SamplingParams(**values)

    @classmethod
    def from_params(cls, params: SamplingParams) -> SamplingValues:
        """The profile form of engine sampling values (e.g. to save what a pane used)."""
        values = {name: getattr(params, name) for name in _SAMPLING_FIELDS}
        values["stop"] = list(params.stop)
        return cls(**values)


class SamplingOverrides(_Strict):
    """One pane's changes to the profile's sampling values; None (left out) keeps the default."""

    temperature: Temperature | None = None
    """Randomness of sampling, 0 to 2."""
    top_p: TopP | None = None
    """Nucleus sampling threshold, above 0 and at most 1."""
    top_k: TopK | None = None
    """Keep only the k most likely tokens, 0 to 1000 (0 turns it off)."""
    min_p: MinP | None = None
    """Minimum probability relative to the most likely token, 0 to 1."""
    repeat_penalty: RepeatPenalty | None = None
    """Penalty on repeated tokens, above 0 and at most 2."""
    max_tokens: MaxTokens | None = None
    """Most tokens to generate, 1 to 32768."""
    stop: list[StopString] | None = None
    """Stop strings for this pane (replaces the profile's list)."""
    seed: Seed | None = None
    """Random seed for this pane, 0 to 4294967295."""

    def apply_to(self, defaults: SamplingValues) -> SamplingValues:
        """The defaults with this pane's overrides applied."""
        changes = self.model_dump(exclude_none=True)
        return defaults.model_copy(update=changes) if changes else defaults

    @classmethod
    def between(cls, defaults: SamplingValues, params: SamplingParams) -> SamplingOverrides:
        """The overrides that turn `defaults` into `params` (only the values that differ)."""
        wanted = SamplingValues.from_params(params)
        changes = {
            name: getattr(wanted, name)
            for name in _SAMPLING_FIELDS
            if getattr(wanted, name) != getattr(defaults, name)
        }
        return cls(**changes)


class ModelSettingsSpec(_Strict):
    """How to load a pane's model (the profile form of `engines.types.ModelSettings`)."""

    n_ctx: Annotated[int, Field(ge=128, le=1_048_576)] = _ENGINE_SETTINGS.n_ctx
    """Context size in tokens (128 to 1048576)."""
    n_gpu_layers: Annotated[int, Field(ge=-1, le=100_000)] = _ENGINE_SETTINGS.n_gpu_layers
    """Layers to offload to the GPU (0: none, -1: all)."""
    n_threads: Annotated[int, Field(ge=1, le=1024)] | None = _ENGINE_SETTINGS.n_threads
    """CPU threads for generation (1 to 1024); left out, llmbench chooses."""
    n_batch: Annotated[int, Field(ge=1, le=65536)] = _ENGINE_SETTINGS.n_batch
    """Prompt-processing batch size (1 to 65536)."""
    allow_oversize: bool = _ENGINE_SETTINGS.allow_oversize
    """Load even when the memory-fit check says the model will not fit."""
    rpc_servers: list[Annotated[str, StringConstraints(pattern=_RPC_SERVER_PATTERN)]] = Field(
        default_factory=list
    )
    """llama.cpp RPC servers as HOST:PORT, to spread the model over."""

    def to_settings(self, path: str, label: str = "") -> ModelSettings:
        """The engine's `ModelSettings` for the resolved model file `path`."""
        return ModelSettings(
            path=path,
            n_ctx=self.n_ctx,
            n_gpu_layers=self.n_gpu_layers,
            n_threads=self.n_threads,
            n_batch=self.n_batch,
            allow_oversize=self.allow_oversize,
            rpc_servers=tuple(self.rpc_servers),
            label=label,
        )


class PaneSpec(_Strict):
    """One pane of a comparison: a model, how to load it, and its sampling overrides."""

    model: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
    """A model reference: a .gguf path, hf:OWNER/REPO:QUANT, hf:OWNER/REPO/FILE.gguf,
    demo:NAME, ollama:NAME, or openai:URL#MODEL."""
    label: str | None = None
    """What to call this pane; left out, the model reference is used."""
    settings: ModelSettingsSpec = Field(default_factory=ModelSettingsSpec)
    """How to load the model."""
    sampling: SamplingOverrides = Field(default_factory=SamplingOverrides)
    """Sampling values that differ from the profile's defaults."""
    api_key_env: Annotated[str, StringConstraints(pattern=_ENV_VAR_PATTERN)] | None = None
    """For openai: panes, the NAME of the environment variable that holds the API key
    (never the key itself)."""
    reference: bool | None = None
    """`true`: the reference of a fidelity run (`llmbench run --fidelity`): the other panes'
    KL divergence is measured against this one. Left out everywhere, the highest-precision
    file among panes of the same architecture is the reference."""
    seed_mode: SeedMode | None = None
    """"fixed" or "new" (a new seed each run) for this pane; left out, the profile's."""
    concurrency: Annotated[int, Field(ge=1, le=64)] | None = None
    """For openai: panes in a suite run, how many requests to send at once (1 to 64; left
    out, 1): servers such as vLLM and llama-server batch them. Speeds are then per request."""

    @property
    def display_label(self) -> str:
        """The label to show: the pane's own, or its model reference."""
        return self.label or self.model

    def sampling_values(self, defaults: SamplingValues) -> SamplingValues:
        """This pane's effective sampling values in profile form."""
        return self.sampling.apply_to(defaults)

    def sampling_params(self, defaults: SamplingValues) -> SamplingParams:
        """This pane's effective sampling values: the profile defaults with its overrides."""
        return self.sampling_values(defaults).to_params()


class Profile(_Strict):
    """A comparison worth keeping: which models, with which settings, on which prompt."""

    version: int = CURRENT_VERSION
    """Profile format version; this llmbench reads versions 1 to CURRENT_VERSION."""
    name: Annotated[str, StringConstraints(pattern=PROFILE_NAME_PATTERN)]
    """Short name, also the file name when saved: letters, digits, '.', '_' and '-',
    starting with a letter or digit, at most 64 characters."""
    description: str = ""
    """What this comparison shows, in a sentence or two."""
    prompt: str = ""
    """The prompt every pane runs."""
    system_prompt: str | None = None
    """System prompt for chat models (ignored by base models)."""
    mode: RunMode = "parallel"
    """Run panes at the same time (parallel) or one after another (sequential: fair speeds)."""
    sampling: SamplingValues = Field(default_factory=SamplingValues)
    """Default sampling values for every pane."""
    seed_mode: SeedMode = "fixed"
    """"fixed": every run uses the sampling seed (reproducible: the same answer each time);
    "new": each run draws a new seed (answers vary from run to run). The seed used is
    always recorded."""
    panes: list[PaneSpec] = Field(min_length=1, max_length=16)
    """The models to compare, 1 to 16 panes, in display order."""
    prompts: list[SuitePrompt] = Field(default_factory=list)
    """A prompt suite run on every pane (`llmbench run`, the workbench's "Run suite"):
    each with `text`, optional `system`, `id` and `expect` checks."""
    prompts_file: Annotated[str, StringConstraints(min_length=1)] | None = None
    """A suite file instead of [[prompts]]: JSONL (one prompt object a line) or text (one
    prompt per paragraph); a relative path is read beside the profile."""

    @field_validator("version")
    @classmethod
    def _known_version(cls, version: int) -> int:
        if version > CURRENT_VERSION:
            raise ValueError(
                f"written by a newer llmbench (version {version}; "
                f"this one reads up to {CURRENT_VERSION})"
            )
        if version < 1:
            raise ValueError(f"must be between 1 and {CURRENT_VERSION}")
        return version

    @model_validator(mode="after")
    def _one_suite(self) -> Profile:
        if self.prompts and self.prompts_file:
            raise ValueError("give either [[prompts]] or prompts_file, not both")
        return self

    def pane_sampling_params(self) -> list[SamplingParams]:
        """Each pane's effective sampling values, in pane order."""
        return [pane.sampling_params(self.sampling) for pane in self.panes]
