"""llama.cpp's native sampler chain, built from a `SamplingParams` with every value explicit.

The chain runs entirely in C (`llama_sampler_sample` reads the logits, applies every
stage and records the token), so the Python work per token is one foreign call. Stages:

- temperature <= 0: greedy (argmax), after the repeat penalty when there is one;
- otherwise: repeat penalty, top-k, top-p, min-p, temperature, then a seeded draw.

The repeat penalty only looks at the last `REPEAT_PENALTY_LAST_N` generated tokens, so at
most that many candidates are penalised. Applying it to the whole vocabulary costs a hash
lookup per vocabulary entry every token; instead the chain first keeps the top
`top_k + REPEAT_PENALTY_LAST_N` candidates, which provably contain the top `top_k` after
penalising (a penalty > 1 only lowers logits, and at most `REPEAT_PENALTY_LAST_N` tokens are
penalised), then penalises, then applies top-k. The result is the same as penalising the
whole vocabulary first, at a fraction of the cost (while that wider top-k stays within
llama.cpp's fast partial sort, `PARTIAL_SORT_LIMIT`).
"""

from __future__ import annotations

from collections.abc import Sequence

import llama_cpp

from engines.local.token_probe import ObserverStage, ProbabilityRecorder
from engines.sampling_ranges import sampling_problems
from engines.types import SamplingParams

REPEAT_PENALTY_LAST_N = 64
"""How many of the most recent generated tokens the repeat penalty looks at (llama.cpp's default)."""

MIN_KEEP = 1
"""Candidates top-p and min-p always keep."""

PARTIAL_SORT_LIMIT = 128
"""llama.cpp's top-k uses a partial sort up to this k and a much slower bucket sort above
it (1.8 ms instead of 0.3 ms a token over Gemma's 262k vocabulary), so the wider top-k
before the repeat penalty is only used up to here; above, the penalty sees every token."""


def check_sampling(params: SamplingParams) -> None:
    """Raise ValueError with a one-line message when a sampling value is out of range
    (`engines.sampling_ranges`, the same table the profile schema and the UI use)."""
    problems = sampling_problems(params)
    if problems:
        raise ValueError("; ".join(problems))


class SamplerChain:
    """One native llama.cpp sampler chain; `pointer` is what `llama_sampler_sample` takes.

    `history` is the generated tokens so far: after a live change the new chain's repeat
    penalty sees the same recent tokens as the old one did.
    """

    def __init__(
        self,
        params: SamplingParams,
        n_vocab: int,
        history: Sequence[int] = (),
        recorder: ProbabilityRecorder | None = None,
    ) -> None:
        """`recorder`: token probabilities on; its observer stages join the chain (after
        the first top-k and at the end, `engines.local.token_probe`), which changes no choice."""
        check_sampling(params)
        self.params = params
        chain_params = llama_cpp.llama_sampler_chain_default_params()
        chain_params.no_perf = True
        self.pointer = llama_cpp.llama_sampler_chain_init(chain_params)
        self.stages: list[str] = []
        """The stages in order, for tests and logs (e.g. ["top_k(104)", "penalties(1.1)", ...])."""
        self._recorder = recorder
        self._observers: list[ObserverStage] = []
        if recorder is not None:
            recorder.start_chain(params)
        self._build(params, n_vocab)
        if recorder is not None:
            self._observe("observe(final)", recorder.final_stage())
        for token in history[-REPEAT_PENALTY_LAST_N:]:
            llama_cpp.llama_sampler_accept(self.pointer, token)

    def _add(self, stage: str, sampler: object) -> None:
        llama_cpp.llama_sampler_chain_add(self.pointer, sampler)
        self.stages.append(stage)

    def _observe(self, stage: str, observer: ObserverStage) -> None:
        self._observers.append(observer)  # the chain frees the native stage; we keep its callbacks
        self._add(stage, observer.pointer)

    def _observe_raw(self) -> None:
        """After the chain's first top-k (raw logits, best first): the raw candidates."""
        if self._recorder is not None:
            self._observe("observe(raw)", self._recorder.raw_stage())

    def _build(self, p: SamplingParams, n_vocab: int) -> None:
        penalise = p.repeat_penalty != 1.0
        greedy = p.temperature <= 0.0
        if penalise:
            keep = (1 if greedy else p.top_k) + REPEAT_PENALTY_LAST_N
            if p.repeat_penalty > 1.0 and (greedy or p.top_k > 0) and keep <= PARTIAL_SORT_LIMIT:
                self._add(f"top_k({keep})", llama_cpp.llama_sampler_init_top_k(keep))
                self._observe_raw()
            self._add(
                f"penalties({p.repeat_penalty})",
                llama_cpp.llama_sampler_init_penalties(
                    n_vocab, REPEAT_PENALTY_LAST_N, p.repeat_penalty, 0.0, 0.0
                ),
            )
        if greedy:
            if (
                self._recorder is not None and not penalise
            ):  # candidates to read; the argmax stays the same
                top_n = self._recorder.top_n
                self._add(f"top_k({top_n})", llama_cpp.llama_sampler_init_top_k(top_n))
                self._observe_raw()
            self._add("greedy", llama_cpp.llama_sampler_init_greedy())
            return
        if p.top_k > 0:
            self._add(f"top_k({p.top_k})", llama_cpp.llama_sampler_init_top_k(p.top_k))
            if not penalise:
                self._observe_raw()
        self._add(f"top_p({p.top_p})", llama_cpp.llama_sampler_init_top_p(p.top_p, MIN_KEEP))
        self._add(f"min_p({p.min_p})", llama_cpp.llama_sampler_init_min_p(p.min_p, MIN_KEEP))
        self._add(f"temp({p.temperature})", llama_cpp.llama_sampler_init_temp(p.temperature))
        self._add(f"dist(seed={p.seed})", llama_cpp.llama_sampler_init_dist(p.seed))

    def close(self) -> None:
        """Free the native chain (and every stage in it). Safe to call twice."""
        if self.pointer is not None:
            llama_cpp.llama_sampler_free(self.pointer)
            self.pointer = None

    def __del__(self) -> None:
        self.close()
