"""Token probabilities, read from llama.cpp's sampler chain as it works.

`llama_sampler_sample` fills an array with the whole vocabulary's logits, runs the chain
over it and returns the chosen token; the array never leaves llama.cpp. To see it without
copying (Gemma's vocabulary is 262k tokens) or sorting anything in Python, the chain gets
two extra observer stages (`ObserverStage`, llama.cpp custom samplers that only read):

- right after the chain's first top-k (which sorts the best candidates by raw logit): the
  raw-logit top candidates (`TokenProbabilities.raw_candidates`);
- at the end, after the draw: the sampler's final distribution (the candidates it kept,
  their probabilities as it computed them, and which one it chose).

Each reads at most the candidates the top-k kept. So token probabilities cost two
callbacks and a few small array reads per token (`benchmarks/decode_overhead.py`), and
they change nothing about the choice: the same values and seed give the same text with
them on or off.

Two cases have no top-k to read from: top-k off, and a repeat penalty with a top-k too
wide for the chain's pre-penalty top-k (`sampler_chain.PARTIAL_SORT_LIMIT`). There the raw
candidates come from a partial selection over the logits in numpy (`np.argpartition`),
which costs about a millisecond a token on a large vocabulary.

Greedy decoding (temperature 0) draws nothing: its distribution is a point mass on the
chosen token (probability 1, rank 1, entropy 0); for it the chain gets a top-k of the
number of candidates asked for, which changes no choice.
"""

from __future__ import annotations

import ctypes
import math
from collections.abc import Callable
from typing import Any

import llama_cpp
import numpy as np

from engines.local.llama_context import LlamaContext
from engines.types import MAX_TOP_CANDIDATES, SamplingParams, TokenCandidate, TokenProbabilities

TOKEN_DATA = np.dtype([("id", "<i4"), ("logit", "<f4"), ("p", "<f4")])
"""llama.cpp's `llama_token_data`, as numpy sees it."""
assert TOKEN_DATA.itemsize == ctypes.sizeof(llama_cpp.llama_token_data)

_STAGE_NAME = b"llmbench-observer"


class ObserverStage:
    """A llama.cpp custom sampler stage that calls `observe(array_pointer)` and changes nothing.

    `pointer` goes into a chain with `llama_sampler_chain_add`; the chain then owns (and
    frees) the native object, while this Python object keeps the callbacks alive: keep it
    as long as the chain.
    """

    def __init__(self, observe: Callable[[Any], None]) -> None:
        def apply(_sampler: Any, array: Any) -> None:
            try:
                observe(array)
            except Exception:  # an exception must not cross into C; the token gets no record
                pass

        self._name = llama_cpp.llama_sampler_i_name(lambda _sampler: _STAGE_NAME)
        self._apply = llama_cpp.llama_sampler_i_apply(apply)
        self._interface = llama_cpp.llama_sampler_i()
        self._interface.name = self._name
        self._interface.apply = self._apply
        self.pointer = llama_cpp.llama_sampler_init(ctypes.byref(self._interface), None)


def _read(array: Any, count: int) -> np.ndarray:
    """A copy of the first `count` entries of a `llama_token_data_array` pointer's data."""
    contents = array.contents
    count = min(count, contents.size)
    if count <= 0:
        return np.empty(0, dtype=TOKEN_DATA)
    buffer = (llama_cpp.llama_token_data * count).from_address(
        ctypes.addressof(contents.data.contents)
    )
    return np.frombuffer(memoryview(buffer), dtype=TOKEN_DATA).copy()


class ProbabilityRecorder:
    """Records `TokenProbabilities` for every token of one generation.

    The sampler chain asks it for its observer stages (`raw_stage`, `final_stage`) each
    time it is built (also after a live sampling change); the token loop calls `take`
    after each sampled token. `summary()` gives the per-answer figures.
    """

    def __init__(self, context: LlamaContext, top_candidates: int) -> None:
        if not 1 <= top_candidates <= MAX_TOP_CANDIDATES:
            raise ValueError(
                f"top candidates must be 1 to {MAX_TOP_CANDIDATES}, got {top_candidates}"
            )
        self.context = context
        self.top_n = top_candidates
        self._texts: dict[int, tuple[str, bool]] = {}
        self._greedy = False
        self._temperature = 0.0
        self._observes_raw = False
        self._raw: np.ndarray | None = None
        self._final: np.ndarray | None = None
        self._selected = -1
        self._sorted = False
        self._kept = 0
        self._entropy = 0.0
        self._logprob_sum = 0.0
        self._entropy_sum = 0.0
        self._count = 0

    # --- the chain's stages -----------------------------------------------------------

    def start_chain(self, params: SamplingParams) -> None:
        """A new chain for `params` is being built (call before `raw_stage`)."""
        self._greedy = params.temperature <= 0.0
        self._temperature = params.temperature
        self._observes_raw = False

    def raw_stage(self) -> ObserverStage:
        """The stage that goes right after the chain's first top-k (raw logits, sorted)."""
        self._observes_raw = True
        return ObserverStage(self._see_raw)

    def final_stage(self) -> ObserverStage:
        """The stage that goes last, after the draw."""
        return ObserverStage(self._see_final)

    def _see_raw(self, array: Any) -> None:
        self._raw = _read(array, self.top_n)

    def _see_final(self, array: Any) -> None:
        contents = array.contents
        self._selected = contents.selected
        self._sorted = bool(contents.sorted)
        if self._greedy:
            self._final = np.empty(0, dtype=TOKEN_DATA)
            self._kept, self._entropy = 1, 0.0
            return
        self._final = final = _read(array, contents.size)
        p = final["p"]
        positive = p[p > 0]
        self._kept = len(positive)
        self._entropy = float(-(positive * np.log(positive)).sum())

    # --- per token --------------------------------------------------------------------

    def take(self, token: int, index: int) -> TokenProbabilities | None:
        """The record of the token just sampled (None if the stages saw nothing)."""
        final, self._final = self._final, None
        if final is None or self._selected < 0:
            return None
        logits = self._logits()
        raw_ids = self._raw_ids(logits)
        if self._greedy:
            probability, rank = 1.0, 1
            top = [token] + [i for i in raw_ids if i != token][: self.top_n - 1]
            sampler_p = {token: 1.0}
        else:
            ids, p = final["id"], final["p"]
            probability = float(p[self._selected])
            if self._sorted:
                rank = self._selected + 1
                order = list(range(min(self.top_n, len(final))))
            else:
                rank = 1 + int(np.count_nonzero(p > probability))
                order = _top_indices(p, self.top_n)
            top = [int(ids[i]) for i in order]
            sampler_p = {int(ids[i]): float(p[i]) for i in order}
            for i in raw_ids:
                if i not in sampler_p:
                    found = np.flatnonzero(ids == i)
                    sampler_p[i] = float(p[found[0]]) if len(found) else 0.0
            for i in raw_ids:  # fill up with what the sampler cut (probability 0)
                if len(top) >= self.top_n:
                    break
                if i not in top and sampler_p[i] == 0.0:
                    top.append(i)
        candidates = tuple(self._candidate(i, sampler_p.get(i, 0.0), logits) for i in top)
        raw = tuple(self._candidate(i, sampler_p.get(i, 0.0), logits) for i in raw_ids)
        text, _special = self._text(token)
        self._logprob_sum += math.log(probability) if probability > 0 else 0.0
        self._entropy_sum += self._entropy
        self._count += 1
        return TokenProbabilities(
            index=index,
            token_id=token,
            text=text,
            probability=probability,
            rank=rank,
            logit=float(logits[token]),
            candidates=candidates,
            raw_candidates=raw,
            entropy=self._entropy,
            kept=self._kept,
            temperature=self._temperature,
        )

    def summary(self) -> tuple[float | None, float | None, float | None]:
        """(mean log-probability, perplexity, mean entropy) over the tokens taken so far."""
        if not self._count:
            return None, None, None
        mean_logprob = self._logprob_sum / self._count
        return mean_logprob, math.exp(-mean_logprob), self._entropy_sum / self._count

    # --- helpers ----------------------------------------------------------------------

    def _logits(self) -> np.ndarray:
        lib = self.context.lib
        pointer = lib.llama_get_logits_ith(self.context.ctx, -1)
        return np.ctypeslib.as_array(pointer, shape=(self.context.n_vocab,))

    def _raw_ids(self, logits: np.ndarray) -> list[int]:
        """The top raw-logit token ids, highest first."""
        if self._observes_raw and self._raw is not None:
            return [int(i) for i in self._raw["id"]]
        return [int(i) for i in _top_indices(logits, self.top_n)]

    def _candidate(self, token: int, probability: float, logits: np.ndarray) -> TokenCandidate:
        text, special = self._text(token)
        return TokenCandidate(token, text, probability, float(logits[token]), special)

    def _text(self, token: int) -> tuple[str, bool]:
        known = self._texts.get(token)
        if known is None:
            context = self.context
            special = context.is_special(token) or context.lib.llama_vocab_is_eog(
                context.vocab, token
            )
            if special:
                known = (context.token_text(token), True)
            else:
                piece = context.pieces.get(token)
                if piece is None:
                    piece = context.piece(token) or b""
                known = (piece.decode("utf-8", errors="replace"), False)
            self._texts[token] = known
        return known


def _top_indices(values: np.ndarray, count: int) -> list[int]:
    """Indices of the `count` largest values, largest first (a partial selection)."""
    count = min(count, len(values))
    if count <= 0:
        return []
    part = np.argpartition(values, len(values) - count)[len(values) - count :]
    return [int(i) for i in part[np.argsort(values[part])[::-1]]]
