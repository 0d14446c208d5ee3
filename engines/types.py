"""The plain data that flows between the interface, the engines and the results.

Every class here is a small frozen dataclass that pickles cheaply: these are also the
messages that cross the pipe between the parent process and a model worker (see
`engines/protocol.py` for the commands and events). Figures follow
`docs/metrics.md` exactly; see `GenerationStats`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, fields, replace
from typing import Any, Literal

PromptMode = Literal["chat", "completion"]
"""`chat`: prompted through the GGUF's chat template; `completion`: raw prompt (base models)."""

StopReason = Literal["stop", "length", "context_full", "cancelled", "error"]
"""Why a generation ended (docs/metrics.md): end-of-sequence or stop string (`stop`), max
tokens reached (`length`), the model's context filled up before max tokens (`context_full`),
cancelled, error."""

STOP_REASONS: tuple[StopReason, ...] = ("stop", "length", "context_full", "cancelled", "error")
"""Every stop reason, in the order docs/metrics.md lists them."""

FINISHED_STOP_REASONS: tuple[StopReason, ...] = ("stop", "length", "context_full")
"""Stop reasons of a generation that ran to its end (kept in the history, exported)."""


@dataclass(frozen=True)
class SamplingParams:
    """Every sampling value, always passed to llama.cpp explicitly (never a library default).

    Temperature 0 means greedy decoding. The same model, prompt, values and seed give the
    same text every time.
    """

    temperature: float = 0.7
    top_p: float = 0.95
    top_k: int = 40
    min_p: float = 0.05
    repeat_penalty: float = 1.1
    max_tokens: int = 256
    stop: tuple[str, ...] = ()
    seed: int = 42

    def with_changes(self, **changes: Any) -> SamplingParams:
        """A copy with some values changed (typed as `dataclasses.replace` types its changes)."""
        return replace(self, **changes)


@dataclass(frozen=True)
class ModelSettings:
    """How to load one model: the resolved file and the load-time settings."""

    path: str
    """Absolute path of the GGUF file (the first shard for a sharded model)."""
    n_ctx: int = 4096
    """Context size in tokens."""
    n_gpu_layers: int = 0
    """Layers to offload to the GPU (-1: all)."""
    n_threads: int | None = None
    """CPU threads for generation; None lets llmbench choose (see `engines.machine.threads`)."""
    n_batch: int = 512
    """Prompt-processing batch size."""
    allow_oversize: bool = False
    """Load even when the memory-fit check says the model will not fit."""
    rpc_servers: tuple[str, ...] = ()
    """llama.cpp RPC servers (HOST:PORT) to spread the model over, when the build has RPC."""
    label: str = ""
    """What the user calls this model (the pane's label); used in messages."""


DEFAULT_TOP_CANDIDATES = 5
"""Candidates recorded per token when token probabilities are on and no number is given."""

MAX_TOP_CANDIDATES = 20
"""The most candidates recorded per token (OpenAI's top_logprobs allows 20 too)."""


@dataclass(frozen=True)
class GenerationRequest:
    """One prompt to run on one loaded model."""

    prompt: str
    sampling: SamplingParams = field(default_factory=SamplingParams)
    system_prompt: str | None = None
    request_id: str = ""
    top_candidates: int = 0
    """Token probabilities: record this many top candidates per generated token
    (1..`MAX_TOP_CANDIDATES`; 0: off). See `TokenProbabilities`."""
    cache_prompt: bool = True
    """Reuse the prompt's longest prefix still in the model's cache (a warm run). False: a
    cold run, the whole prompt evaluated again (llama-server: `"cache_prompt": false`), so
    repeated runs measure the same work."""


@dataclass(frozen=True)
class ModelInfo:
    """What a loaded model is, and what really happened when it was loaded."""

    path: str
    file_name: str
    file_size: int | None
    """Bytes on disk (all shards); None for a model served elsewhere."""
    name: str
    architecture: str
    n_params: int | None
    quantization: str | None
    n_ctx_train: int | None
    n_ctx: int
    n_layers: int | None
    has_chat_template: bool
    backend: str
    """The llama.cpp backend this build really has: "CPU", "CUDA", "Metal", "Vulkan", ..."""
    n_gpu_layers_requested: int
    n_gpu_layers_offloaded: int
    n_threads: int | None
    """CPU threads generating; None for a model served elsewhere."""
    llama_cpp_python_version: str
    llama_cpp_version: str = ""
    """llama.cpp's build/commit string where the binding exposes it."""
    load_s: float = 0.0
    """Seconds from asking the worker to load until the model is ready (docs/metrics.md)."""
    warnings: tuple[str, ...] = ()
    """Things the user must see, e.g. GPU layers asked for on a build with no GPU backend."""


@dataclass(frozen=True)
class SamplingChange:
    """A live sampling change and the generated-token index from which it applied."""

    at_token: int
    sampling: SamplingParams


@dataclass(frozen=True)
class TokenCandidate:
    """One candidate for a generated token: a token the model could have produced there.

    `probability` is the candidate's probability in the distribution the sampler drew from
    (after repeat penalty, top-k, top-p, min-p and temperature; 0.0 for a candidate those
    stages cut). `logit` is the model's raw logit for it (before penalty and temperature),
    from which `engines.temperature_lens` recomputes probabilities at any temperature.
    """

    token_id: int
    text: str
    """The token's text as the answer shows it; a control or marker token (which the
    answer skips) shows its vocabulary text, e.g. "<eos>", with `special` set."""
    probability: float
    logit: float
    special: bool = False


@dataclass(frozen=True)
class TokenProbabilities:
    """What the sampler saw when it chose one generated token (token probabilities).

    - `probability` / `rank`: the chosen token's probability in the sampler's distribution
      and its rank there (1: the most likely). Greedy decoding (temperature 0) is a point
      mass: probability 1.0, rank 1, every other candidate 0.0.
    - `candidates`: the top candidates by that probability, most likely first (at most the
      number asked for, fewer when the sampler kept fewer; the sampler's cut candidates
      fill up the list with probability 0.0). They sum to at most 1.
    - `raw_candidates`: the top candidates by the model's raw logit, highest first: the
      input of the temperature lens (`engines.temperature_lens.lens_probabilities`).
    - `entropy`: the entropy (nats) of the sampler's whole distribution at this token.

    Read from llama.cpp's own sampler data (the chain's array after its top-k and after
    the draw), never by sorting the vocabulary in Python; see
    `engines.local.token_probe`.
    """

    index: int
    """The token's index among the run's generated tokens (0-based)."""
    token_id: int
    text: str
    probability: float
    rank: int
    logit: float
    """The chosen token's raw logit."""
    candidates: tuple[TokenCandidate, ...]
    raw_candidates: tuple[TokenCandidate, ...]
    entropy: float
    kept: int
    """How many candidates the sampler's distribution had (probability > 0)."""
    temperature: float
    """The temperature in force for this token (0: greedy)."""

    @property
    def logprob(self) -> float:
        """ln(probability); `LOGPROB_FLOOR` for a probability of 0."""
        return math.log(self.probability) if self.probability > 0 else LOGPROB_FLOOR


def answer_summary(
    records: Sequence[TokenProbabilities],
) -> tuple[float | None, float | None, float | None]:
    """(mean log-probability, perplexity, mean entropy) of `records`; Nones for none. A
    probability of 0 adds nothing to the log-probability, as in `engines.local.token_probe`."""
    if not records:
        return None, None, None
    mean = sum(math.log(r.probability) for r in records if r.probability > 0) / len(records)
    return mean, math.exp(-mean), sum(r.entropy for r in records) / len(records)


LOGPROB_FLOOR = -9999.0
"""The log-probability written for a probability of 0 (OpenAI writes -9999.0 too)."""


@dataclass(frozen=True)
class ServerFigures:
    """An OpenAI-compatible server's own figures after an answer (`engines.remote.server_metrics`);
    None: the server did not say."""

    kv_cache_pct: float | None = None
    requests_running: int | None = None
    requests_waiting: int | None = None
    prompt_tps: float | None = None
    """The server's own average prompt throughput (all requests), tokens/s."""
    generation_tps: float | None = None
    """The server's own average generation throughput (all requests), tokens/s."""
    slots_busy: int | None = None
    slots_total: int | None = None
    model_file: str | None = None
    n_ctx: int | None = None

    @property
    def known(self) -> bool:
        """Whether the server said anything at all."""
        return any(getattr(self, f.name) is not None for f in fields(self))


@dataclass(frozen=True)
class GenerationStats:
    """The figures of one finished (or cancelled, or failed) generation, as docs/metrics.md defines them.

    Fields that cannot be known are None and are shown as "—", never as 0.
    """

    stop_reason: StopReason
    prompt_mode: PromptMode
    prompt_tokens: int | None
    """Prompt tokens after the chat template; None when unknown (a server that sends no usage)."""
    generated_tokens: int
    """Tokens sampled, stop token excluded."""
    ttft_s: float | None
    """Request sent → first generated token's text received by the parent (parent clock)."""
    prompt_tps: float | None
    """Prompt tokens / prompt-processing time, from llama.cpp's own counters."""
    decode_tps: float | None
    """(generated − 1) / (last token time − first token time), worker timestamps; None with < 2 tokens."""
    engine_decode_tps: float | None
    """Generated tokens / llama.cpp's own eval time."""
    sampling_ms_per_token: float | None = None
    """llama.cpp's own sampling time per token."""
    delivery_lag_p95_ms: float | None = None
    """95th percentile of token ready in worker → arrival in parent."""
    elapsed_s: float | None = None
    """Request sent → generation finished (parent clock)."""
    peak_rss_mib: float | None = None
    """The worker's largest resident memory during the run."""
    gpu_mem_mib: float | None = None
    """The worker's own GPU memory (NVML, per process)."""
    energy_j: float | None = None
    """GPU board power integrated over the run's wall time, where a GPU is present."""
    cpu_energy_j: float | None = None
    """CPU package energy over the run (Linux RAPL), where it is readable."""
    cached_prompt_tokens: int = 0
    """Prompt tokens reused from llama.cpp's prompt cache instead of being computed again."""
    sampling_changes: tuple[SamplingChange, ...] = ()
    """Live sampling changes during this run, in order."""
    error: str | None = None
    """Why the generation failed, when stop_reason is "error"."""
    mean_logprob: float | None = None
    """Mean ln(probability) of the generated tokens in the sampler's distribution
    (docs/metrics.md); None when token probabilities were off."""
    perplexity: float | None = None
    """exp(−mean_logprob): the generated text's perplexity under the sampler's distribution."""
    mean_entropy: float | None = None
    """Mean entropy (nats) of the sampler's distribution over the generated tokens."""
    server: ServerFigures | None = None
    """What the server (an `openai:` pane) published about itself after the answer."""

    @property
    def overhead_ratio(self) -> float | None:
        """decode speed / engine decode speed: how much of the engine's speed reaches the user."""
        if self.decode_tps is None or not self.engine_decode_tps:
            return None
        return self.decode_tps / self.engine_decode_tps

    @property
    def energy_per_token_j(self) -> float | None:
        """Energy / generated tokens."""
        if self.energy_j is None or self.generated_tokens <= 0:
            return None
        return self.energy_j / self.generated_tokens


def decode_speed(
    generated_tokens: int, first_token_time: float, last_token_time: float
) -> float | None:
    """Decode speed as docs/metrics.md defines it; None (shown "—") with one token or none."""
    if generated_tokens < 2 or last_token_time <= first_token_time:
        return None
    return (generated_tokens - 1) / (last_token_time - first_token_time)
