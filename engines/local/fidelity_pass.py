"""The fidelity pass: a text evaluated in windows of n_ctx, as llama.cpp's llama-perplexity does.

Runs in a model's worker (`LlamaEngine.evaluate`) on the loaded model, in a llama.cpp
context of its own (n_ctx and batch of the pass, logits for every scored position), so
the generation context and its prompt cache stay as they are. For each window: clear the
memory, put BOS in its first place (when the model adds one), decode it in batches of
`n_batch` asking logits only for its second half, then hand the logits to
`engines.fidelity.stats` as one numpy view (no per-token Python over the vocabulary).

A reference pass keeps its top candidates (`save_reference`); a comparison pass reads
them (`reference`) and adds KL divergence, same-top-token % and Δp, or, when this
model's tokens of the text are not the reference's, perplexity only and a note why.
"""

from __future__ import annotations

import ctypes
import time
from collections.abc import Callable
from dataclasses import asdict, replace
from typing import Any

import numpy as np

from engines.fidelity import stats
from engines.fidelity.figures import FidelityFigures, FidelityRequest
from engines.fidelity.reference_store import (
    ReferenceCandidates,
    ReferenceFileError,
    load_reference,
    save_reference,
)
from engines.local.llama_context import EngineError, LlamaContext
from engines.protocol import Event, FidelityProgressed


class _Cancelled(Exception):
    pass


def run_fidelity_pass(
    context: LlamaContext,
    n_threads: int,
    request: FidelityRequest,
    emit: Callable[[Event], None],
    cancelled: Callable[[], bool],
) -> FidelityFigures:
    """Evaluate `request.text`; EngineError (one line) for a text too short or a llama.cpp failure."""
    n_ctx = request.n_ctx
    tokens = context.tokenize(request.text, add_special=True, parse_special=False)
    if len(tokens) < stats.min_tokens(n_ctx):
        raise EngineError(
            f"{context.file_name}: the text is {len(tokens)} tokens for this model; windows of "
            f"{n_ctx} need at least {stats.min_tokens(n_ctx)} (a longer text or a smaller n_ctx)"
        )
    starts = stats.window_starts(len(tokens), n_ctx)
    covered = np.asarray(tokens[: len(starts) * n_ctx], dtype=np.int32)
    reference, note = _reference_for(request, context.n_vocab, n_ctx, covered)
    evaluator = _WindowEvaluator(context, n_threads, n_ctx, min(request.n_batch, n_ctx))
    per_window = stats.scored_per_window(n_ctx)
    first = stats.first_scored(n_ctx)
    nll, kld, same_top, cand_ids, cand_log_p = [], [], [], [], []
    work: np.ndarray | None = None
    started = time.perf_counter()
    try:
        for number, start in enumerate(starts):
            if cancelled():
                return FidelityFigures(cancelled=True, n_ctx=n_ctx)
            logits = evaluator.evaluate(covered[start : start + n_ctx])[:per_window]
            targets = covered[start + first + 1 : start + n_ctx]
            if work is None or work.shape != logits.shape:
                work = np.empty_like(logits)
            norms = stats.row_norms(logits, work)
            nll.append(-stats.token_log_probs(logits, norms, targets))
            if request.save_reference:
                ids, log_p = stats.top_candidates(logits, norms, request.top_k)
                cand_ids.append(ids)
                cand_log_p.append(log_p)
            if reference is not None:
                rows = slice(number * per_window, (number + 1) * per_window)
                kld.append(
                    stats.kld_rows(reference.ids[rows], reference.log_p[rows], logits, norms)
                )
                same_top.append(norms.argmax == reference.ids[rows, 0])
            done = (number + 1) * n_ctx
            elapsed = time.perf_counter() - started
            emit(
                FidelityProgressed(
                    request.request_id,
                    done,
                    len(starts) * n_ctx,
                    done / elapsed if elapsed else 0.0,
                )
            )
        engine_tokens_per_s = evaluator.engine_tokens_per_s()
    finally:
        evaluator.free()
    elapsed = time.perf_counter() - started
    all_nll = np.concatenate(nll)
    tokens_per_s = len(starts) * n_ctx / elapsed if elapsed > 0 else None
    if request.save_reference:
        save_reference(
            request.save_reference,
            ReferenceCandidates(
                n_vocab=context.n_vocab,
                n_ctx=n_ctx,
                tokens=covered,
                ids=np.concatenate(cand_ids),
                log_p=np.concatenate(cand_log_p),
                nll=all_nll,
                tokens_per_s=tokens_per_s or 0.0,
            ),
        )
    ppl, ppl_err = stats.perplexity(all_nll)
    figures = FidelityFigures(
        ppl=ppl,
        ppl_err=ppl_err,
        scored_tokens=len(all_nll),
        windows=len(starts),
        n_ctx=n_ctx,
        tokens_per_s=tokens_per_s,
        engine_tokens_per_s=engine_tokens_per_s,
        elapsed_s=elapsed,
        reference_label=request.reference_label,
        is_reference=bool(request.save_reference),
        note=note,
    )
    if reference is None:
        return figures
    comparison = stats.compare(
        np.concatenate(kld), np.concatenate(same_top), all_nll, reference.nll
    )
    return replace(figures, **asdict(comparison))


def _reference_for(
    request: FidelityRequest, n_vocab: int, n_ctx: int, covered: np.ndarray
) -> tuple[ReferenceCandidates | None, str | None]:
    """The reference to compare with, or None and why not (another vocabulary)."""
    if not request.reference:
        return None, None
    try:
        reference = load_reference(request.reference)
    except ReferenceFileError as error:
        raise EngineError(str(error)) from None
    name = request.reference_label or "the reference"
    if reference.n_ctx != n_ctx:
        raise EngineError(f"{name}'s candidates were computed with n_ctx {reference.n_ctx}")
    if reference.n_vocab != n_vocab:
        why = f"{n_vocab} tokens vs {reference.n_vocab}"
    elif not np.array_equal(reference.tokens, covered):
        why = "the text splits into other tokens"
    else:
        return reference, None
    return None, (
        f"perplexity only: another vocabulary than {name} ({why}), so next-token "
        "distributions cannot be compared token by token (no KLD)"
    )


class _WindowEvaluator:
    """A llama.cpp context for one window at a time, with logits for its second half."""

    def __init__(self, context: LlamaContext, n_threads: int, n_ctx: int, n_batch: int) -> None:
        lib = self.lib = context.lib
        self.file_name = context.file_name
        self.n_ctx, self.n_batch, self.n_vocab = n_ctx, n_batch, context.n_vocab
        self.first = stats.first_scored(n_ctx)
        params = lib.llama_context_default_params()
        params.n_ctx = n_ctx
        params.n_batch = n_batch
        params.n_ubatch = n_batch
        params.n_seq_max = 1
        params.n_threads = n_threads
        params.n_threads_batch = n_threads
        params.no_perf = False
        self.ctx = lib.llama_init_from_model(context.model, params)
        if not self.ctx:
            raise EngineError(
                f"{self.file_name}: llama.cpp could not create a context of {n_ctx} tokens "
                "for the fidelity pass (not enough memory?)"
            )
        self.memory = lib.llama_get_memory(self.ctx)
        self.batch = lib.llama_batch_init(n_batch, 0, 1)
        self.bos = (
            lib.llama_vocab_bos(context.vocab)
            if lib.llama_vocab_get_add_bos(context.vocab)
            else None
        )
        self._buffer: np.ndarray | None = None

    def evaluate(self, window: np.ndarray) -> np.ndarray:
        """The logits of positions first..n_ctx-1 (rows × vocabulary, float32)."""
        lib, batch = self.lib, self.batch
        lib.llama_memory_clear(self.memory, True)
        tokens = window.tolist()
        if self.bos is not None:
            tokens[0] = self.bos
        n_batches = -(-self.n_ctx // self.n_batch)
        filled = 0
        for j in range(n_batches):
            begin = j * self.n_batch
            size = min(self.n_ctx - begin, self.n_batch)
            n_outputs = 0
            for k in range(size):
                pos = begin + k
                batch.token[k] = tokens[pos]
                batch.pos[k] = pos
                batch.n_seq_id[k] = 1
                batch.seq_id[k][0] = 0
                wanted = pos >= self.first
                batch.logits[k] = wanted
                n_outputs += wanted
            batch.n_tokens = size
            result = lib.llama_decode(self.ctx, batch)
            if result != 0:
                raise EngineError(
                    f"{self.file_name}: llama.cpp could not evaluate a window of the text "
                    f"(llama_decode returned {result})"
                )
            if n_outputs == 0:
                continue
            rows = self._logits(n_outputs)
            if n_batches == 1:
                return rows
            if self._buffer is None:
                self._buffer = np.empty((self.n_ctx - self.first, self.n_vocab), np.float32)
            self._buffer[filled : filled + n_outputs] = rows
            filled += n_outputs
        if self._buffer is None:
            raise EngineError(f"{self.file_name}: the window asked llama.cpp for no logits")
        return self._buffer

    def _logits(self, n_outputs: int) -> np.ndarray:
        pointer = self.lib.llama_get_logits(self.ctx)
        address = ctypes.cast(pointer, ctypes.c_void_p).value
        if address is None:
            raise EngineError(f"{self.file_name}: llama.cpp returned no logits")
        array = (ctypes.c_float * (n_outputs * self.n_vocab)).from_address(address)
        return np.frombuffer(memoryview(array), dtype=np.float32).reshape(n_outputs, self.n_vocab)

    def engine_tokens_per_s(self) -> float | None:
        """Tokens evaluated / llama.cpp's own evaluation time in this context so far."""
        lib = self.lib
        lib.llama_synchronize(self.ctx)
        data = lib.llama_perf_context(self.ctx)
        if data.t_p_eval_ms <= 0:
            return None
        return data.n_p_eval / (data.t_p_eval_ms / 1000.0)

    def free(self) -> None:
        lib: Any = self.lib
        if self.batch is not None:
            lib.llama_batch_free(self.batch)
            self.batch = None
        if self.ctx is not None:
            lib.llama_free(self.ctx)
            self.ctx = None
