"""The seam between a pane and the model behind it.

A `ModelHandle` is the parent's side of one model: the real one talks to a worker
process over a pipe (`engines.local.worker`), the fake one plays a script (`engines.fake`), a
remote one talks to an OpenAI-compatible server. All of them take the same commands and
deliver the same events, so the workbench and headless runs never care which it is.

Commands go in through methods that return at once. Events come out of `next_events()`,
which the caller runs in its own thread (a Textual thread worker, or the headless loop).
"""

from __future__ import annotations

import abc
from dataclasses import dataclass

from engines.fidelity.figures import FidelityFigures, FidelityRequest
from engines.types import (
    GenerationRequest,
    GenerationStats,
    ModelInfo,
    ModelSettings,
    PromptMode,
    SamplingParams,
    TokenProbabilities,
)

# --- Commands: parent -> worker ---------------------------------------------------------


@dataclass(frozen=True)
class LoadModel:
    settings: ModelSettings


@dataclass(frozen=True)
class Generate:
    request: GenerationRequest


@dataclass(frozen=True)
class UpdateSampling:
    """Change sampling values live: applies from the next token of a running generation."""

    sampling: SamplingParams


@dataclass(frozen=True)
class Cancel:
    """Stop the running generation within one token (a fidelity pass: within one window)."""


@dataclass(frozen=True)
class Shutdown:
    """Unload the model and end the worker process."""


@dataclass(frozen=True)
class Evaluate:
    """Run a fidelity pass over a text (`engines.fidelity`); Cancel stops it between windows."""

    request: FidelityRequest


Command = LoadModel | Generate | UpdateSampling | Cancel | Shutdown | Evaluate

# --- Events: worker -> parent -----------------------------------------------------------


@dataclass(frozen=True)
class LoadProgressed:
    """Loading progress, 0.0 to 1.0."""

    fraction: float


@dataclass(frozen=True)
class ModelLoaded:
    info: ModelInfo


@dataclass(frozen=True)
class LoadFailed:
    """The model could not be loaded. `reason` is one line a person can act on."""

    reason: str
    detail: str = ""
    """Extra context, e.g. the last relevant lines of llama.cpp's log."""


@dataclass(frozen=True)
class GenerationStarted:
    request_id: str
    prompt_mode: PromptMode
    prompt_tokens: int | None
    """None when it is not known yet (a remote server says it only at the end, if at all)."""


@dataclass(frozen=True)
class TokensGenerated:
    """A batch of generated text (several tokens per batch, never one UI update per token)."""

    request_id: str
    text: str
    """UTF-8-correct text: a character split across tokens is held back until complete."""
    n_tokens: int
    ready_times: tuple[float, ...]
    """Worker-side `time.perf_counter()` when each token's text was ready (shared monotonic clock)."""
    first_token_index: int
    """Index of the first token of this batch among the run's generated tokens (0-based)."""
    received_at: float = 0.0
    """Parent-side `time.perf_counter()` at arrival; stamped by the handle."""
    probabilities: tuple[TokenProbabilities, ...] = ()
    """One per token of this batch, in order, when the request asked for token
    probabilities (`GenerationRequest.top_candidates`); empty otherwise."""


@dataclass(frozen=True)
class SamplingChanged:
    """A live sampling change took effect from generated token `at_token`."""

    request_id: str
    at_token: int
    sampling: SamplingParams


@dataclass(frozen=True)
class GenerationFinished:
    """The generation ended (stop, length, cancelled or error) with its figures."""

    request_id: str
    stats: GenerationStats


@dataclass(frozen=True)
class WorkerCrashed:
    """The worker process died (signal, abort, out of memory). The handle is unusable now."""

    reason: str
    """E.g. "killed by signal 9 (SIGKILL)" or "exited with code 134"."""
    exitcode: int | None
    log_tail: str = ""


@dataclass(frozen=True)
class Warned:
    """Something the user must see that is not a failure (e.g. no GPU backend in this build)."""

    message: str


@dataclass(frozen=True)
class FidelityProgressed:
    """A fidelity pass evaluated another window."""

    request_id: str
    evaluated_tokens: int
    total_tokens: int
    tokens_per_s: float


@dataclass(frozen=True)
class FidelityFinished:
    """A fidelity pass ended: its figures, or why not (`figures.error`, `figures.cancelled`)."""

    request_id: str
    figures: FidelityFigures


Event = (
    LoadProgressed
    | ModelLoaded
    | LoadFailed
    | GenerationStarted
    | TokensGenerated
    | SamplingChanged
    | GenerationFinished
    | WorkerCrashed
    | Warned
    | FidelityProgressed
    | FidelityFinished
)


class ModelHandle(abc.ABC):
    """The parent's side of one model. Methods return at once; events arrive via next_events().

    Thread use: one consumer thread calls `next_events()`; any thread may call the
    command methods.
    """

    @abc.abstractmethod
    def load(self, settings: ModelSettings) -> None:
        """Start loading (starting the worker if needed). Events: LoadProgressed*, then
        ModelLoaded or LoadFailed."""

    @abc.abstractmethod
    def generate(self, request: GenerationRequest) -> None:
        """Start a generation. Events: GenerationStarted, TokensGenerated*, SamplingChanged*,
        GenerationFinished."""

    @abc.abstractmethod
    def update_sampling(self, sampling: SamplingParams) -> None:
        """Change sampling live (from the next token) or for the next run; never reloads."""

    @abc.abstractmethod
    def cancel(self) -> None:
        """Stop the running generation; it finishes with stop_reason "cancelled"."""

    @property
    def can_evaluate(self) -> bool:
        """Whether `evaluate` runs on this handle (a local model); False for servers."""
        return False

    @property
    def serves_token_probabilities(self) -> bool:
        """Whether a request's `top_candidates` gets token records (`TokensGenerated.
        probabilities`): a local model, a server that sends logprobs. False by default."""
        return False

    def evaluate(self, request: FidelityRequest) -> None:
        """Start a fidelity pass. Events: FidelityProgressed*, then FidelityFinished.

        Only handles whose `can_evaluate` is True implement it."""
        raise NotImplementedError("this kind of model cannot run a fidelity pass")

    @abc.abstractmethod
    def next_events(self, timeout: float | None = None) -> list[Event]:
        """Block until at least one event is ready or `timeout` passes (then return [])."""

    @abc.abstractmethod
    def close(self) -> None:
        """Unload and end the worker; its memory comes back. Safe to call twice."""

    def kill(self) -> None:
        """End the model at once, without asking it (it stopped answering). Like close(),
        the handle is unusable afterwards; by default it is close()."""
        self.close()

    @property
    @abc.abstractmethod
    def pid(self) -> int | None:
        """The process that holds the model (for per-process RSS/CPU/GPU), if local."""

    @property
    @abc.abstractmethod
    def alive(self) -> bool:
        """Whether the handle can still take commands (False after close or a crash)."""
