"""The token loop of one generation on a loaded model (`engines.local.llama_context`).

Per token: check for a cancel and a live sampling change, sample with the native chain
(`llama_sampler_sample` also records the token for the repeat penalty), look up the
token's bytes (cached per token id), turn them into UTF-8-correct text, look for stop
strings, stamp the time the text is ready, send a batch every ~30 ms, and evaluate the
token. Nothing in the loop allocates per token beyond two list appends.

After each evaluation the loop waits for llama.cpp to finish (`llama_synchronize`), so
llama.cpp's own eval-time counter measures the evaluation alone and not the Python work
before the next sample (llama.cpp stops that clock at the next synchronisation).

The prompt is evaluated with the longest common prefix of the previous run's tokens
reused (the prompt cache). Its last token is always evaluated on its own, in a fresh run
as in a cached one, so a re-run computes exactly what the first run did and gives the same
text for the same values and seed.
"""

from __future__ import annotations

import enum
import time
from collections.abc import Callable
from typing import Any, Protocol

from engines.local.llama_context import EngineError, LlamaContext
from engines.local.process_memory import resident_mib_now
from engines.local.sampler_chain import SamplerChain
from engines.local.stop_strings import StopStringMatcher
from engines.local.token_probe import ProbabilityRecorder
from engines.local.utf8_stream import Utf8Stream
from engines.protocol import Event, SamplingChanged, TokensGenerated
from engines.types import (
    GenerationRequest,
    GenerationStats,
    PromptMode,
    SamplingChange,
    SamplingParams,
    StopReason,
    TokenProbabilities,
    decode_speed,
)

FLUSH_INTERVAL_S = 0.03
"""Send the text generated so far at least this often (never one message per token)."""


class _Missing(enum.Enum):
    """A typed sentinel: a token whose piece is not in the context's cache yet."""

    NOT_CACHED = enum.auto()


_NOT_CACHED = _Missing.NOT_CACHED


class GenerationControl(Protocol):
    """How a running generation is steered from outside (the worker's command reader)."""

    def cancelled(self) -> bool:
        """Whether the generation should stop now."""
        ...

    def take_sampling_change(self) -> SamplingParams | None:
        """New sampling values to apply from the next token, or None if none are pending."""
        ...


class NoControl:
    """A GenerationControl that never cancels and never changes sampling."""

    def cancelled(self) -> bool:
        return False

    def take_sampling_change(self) -> SamplingParams | None:
        return None


class _TokenBatcher:
    """Collects generated text and ready times, and sends them as one TokensGenerated."""

    def __init__(self, request_id: str, emit: Callable[[Event], None]) -> None:
        self.request_id = request_id
        self.emit = emit
        self.texts: list[str] = []
        self.times: list[float] = []
        self.probabilities: list[TokenProbabilities] = []
        """One per token when token probabilities are on (else stays empty)."""
        self.next_index = 0
        self.peak_rss_mib = resident_mib_now()

    def flush(self, extra_text: str = "") -> None:
        """Send what has been collected (nothing to send: no message)."""
        if not self.times and not extra_text:
            return
        n_tokens = len(self.times)
        self.emit(
            TokensGenerated(
                request_id=self.request_id,
                text="".join(self.texts) + extra_text,
                n_tokens=n_tokens,
                ready_times=tuple(self.times),
                first_token_index=self.next_index,
                probabilities=tuple(self.probabilities),
            )
        )
        self.next_index += n_tokens
        self.texts.clear()
        self.times.clear()
        self.probabilities.clear()
        rss = resident_mib_now()
        if rss is not None and (self.peak_rss_mib is None or rss > self.peak_rss_mib):
            self.peak_rss_mib = rss


def evaluate_prompt(
    context: LlamaContext,
    tokens: list[int],
    cancelled: Callable[[], bool] = lambda: False,
    use_cache: bool = True,
) -> int | None:
    """Evaluate the prompt, reusing the cached prefix; returns the prompt tokens reused.

    `cancelled` is asked before each batch of `n_batch` tokens; None if it said yes.
    `use_cache` False evaluates the whole prompt again (a cold run).
    """
    lib = context.lib
    memory = context.memory
    previous = context.cached_tokens if use_cache else []
    reuse = 0
    for old, new in zip(previous, tokens, strict=False):
        if old != new:
            break
        reuse += 1
    reuse = min(reuse, len(tokens) - 1)
    if memory is None:
        reuse = 0
    if reuse > 0 and context.n_swa > 0:
        # A sliding-window cache forgets old positions; reuse only what it still holds.
        if lib.llama_memory_seq_pos_min(memory, 0) > max(0, reuse - context.n_swa):
            reuse = 0
    if reuse > 0 and not lib.llama_memory_seq_rm(memory, -1, reuse, -1):
        reuse = 0
    if reuse == 0 and memory is not None:
        lib.llama_memory_clear(memory, True)
    context.cached_tokens = tokens[:reuse]
    body = tokens[reuse:-1]
    for start in range(0, len(body), context.n_batch):
        if cancelled():
            return None
        chunk = body[start : start + context.n_batch]
        context.decode(chunk)
        context.cached_tokens.extend(chunk)
    if cancelled():
        return None
    context.decode(tokens[-1:])
    context.cached_tokens.append(tokens[-1])
    return reuse


def run_generation(
    context: LlamaContext,
    request: GenerationRequest,
    mode: PromptMode,
    tokens: list[int],
    emit: Callable[[Event], None],
    control: GenerationControl,
) -> GenerationStats:
    """Generate for `request` from the prompt `tokens`; see the module docstring."""
    lib: Any = context.lib
    ctx = context.ctx
    sampling = request.sampling
    try:
        recorder = (
            ProbabilityRecorder(context, request.top_candidates) if request.top_candidates else None
        )
        chain = SamplerChain(sampling, context.n_vocab, recorder=recorder)
    except ValueError as error:
        raise EngineError(f"{context.file_name}: {error}") from error
    try:
        lib.llama_perf_context_reset(ctx)
        cached = evaluate_prompt(context, tokens, control.cancelled, request.cache_prompt)
        synchronize = lib.llama_synchronize
        synchronize(ctx)
        after_prompt = lib.llama_perf_context(ctx)
        if cached is None:
            return _cancelled_during_prompt(mode, len(tokens))

        room = context.n_ctx - len(tokens)
        max_asked = sampling.max_tokens
        max_new = min(max_asked, room)
        batcher = _TokenBatcher(request.request_id, emit)
        texts_append = batcher.texts.append
        times_append = batcher.times.append
        stops = StopStringMatcher(sampling.stop)
        check_stops = stops.active
        utf8 = Utf8Stream()
        feed = utf8.feed
        pieces = context.pieces
        piece_of = context.piece
        sample = lib.llama_sampler_sample
        decode = lib.llama_decode
        token_cell = (lib.llama_token * 1)()
        one_token = lib.llama_batch_get_one(token_cell, 1)
        cancelled = control.cancelled
        take_change = control.take_sampling_change
        clock = time.perf_counter
        chain_pointer = chain.pointer
        remember_evaluated = context.cached_tokens.append

        generated: list[int] = []
        changes: list[SamplingChange] = []
        stop_reason: StopReason = "length"
        n_generated = 0
        n_evaluated = 0
        n_sampled = 0
        sampling_s = 0.0
        first_ready = last_ready = 0.0
        last_flush = float("-inf")  # the first token goes out at once (TTFT)
        while n_generated < max_new:
            if cancelled():
                stop_reason = "cancelled"
                break
            change = take_change()
            if change is not None:
                batcher.flush()
                try:
                    new_chain = SamplerChain(change, context.n_vocab, generated, recorder)
                except ValueError as error:
                    raise EngineError(f"{context.file_name}: {error}") from error
                chain.close()
                chain, chain_pointer = new_chain, new_chain.pointer
                max_asked = change.max_tokens
                max_new = min(max_asked, room)
                stops.replace_stops(change.stop)
                check_stops = stops.active
                if not check_stops:
                    texts_append(stops.finish())  # held back for a stop string that is gone
                changes.append(SamplingChange(at_token=n_generated, sampling=change))
                emit(SamplingChanged(request.request_id, n_generated, change))
                last_flush = clock()
                if n_generated >= max_new:
                    stop_reason = _end_reason(max_asked, room)
                    break
            started = clock()
            token = sample(chain_pointer, ctx, -1)
            sampling_s += clock() - started
            n_sampled += 1
            piece = pieces.get(token, _NOT_CACHED)
            if piece is _NOT_CACHED:
                piece = piece_of(token)
            if piece is None:
                stop_reason = "stop"
                break
            n_generated += 1
            generated.append(token)
            if recorder is not None:
                batcher.probabilities.append(_record(recorder, token, n_generated - 1, context))
            text = feed(piece)
            if check_stops:
                text, hit = stops.feed(text)
                if hit:
                    texts_append(text)
                    last_ready = clock()
                    times_append(last_ready)
                    if n_generated == 1:
                        first_ready = last_ready
                    stop_reason = "stop"
                    break
            last_ready = clock()
            texts_append(text)
            times_append(last_ready)
            if n_generated == 1:
                first_ready = last_ready
            if n_generated >= max_new:
                stop_reason = _end_reason(max_asked, room)
                break
            if last_ready - last_flush >= FLUSH_INTERVAL_S:
                batcher.flush()
                last_flush = last_ready
            token_cell[0] = token
            result = decode(ctx, one_token)
            synchronize(ctx)
            if result != 0:
                raise EngineError(
                    f"{context.file_name}: llama.cpp could not evaluate token {n_generated} "
                    f"(llama_decode returned {result})"
                )
            remember_evaluated(token)
            n_evaluated += 1

        utf8.discard_pending()
        batcher.flush(extra_text="" if stops.stopped else stops.finish())
        finished = lib.llama_perf_context(ctx)
    except BaseException:
        context.cached_tokens = []
        raise
    finally:
        chain.close()

    # llama_perf_context reports counts of at least 1 (to spare divisions by zero), so the
    # counts are ours and the times llama.cpp's.
    prompt_ms = after_prompt.t_p_eval_ms + after_prompt.t_eval_ms
    prompt_evaluated = len(tokens) - cached
    eval_ms = finished.t_eval_ms - after_prompt.t_eval_ms
    mean_logprob, perplexity, mean_entropy = (
        recorder.summary() if recorder is not None else (None, None, None)
    )
    return GenerationStats(
        stop_reason=stop_reason,
        prompt_mode=mode,
        prompt_tokens=len(tokens),
        generated_tokens=n_generated,
        ttft_s=None,
        prompt_tps=prompt_evaluated / (prompt_ms / 1000) if prompt_ms > 0 else None,
        decode_tps=decode_speed(n_generated, first_ready, last_ready),
        engine_decode_tps=n_evaluated / (eval_ms / 1000) if n_evaluated and eval_ms > 0 else None,
        sampling_ms_per_token=sampling_s * 1000 / n_sampled if n_sampled else None,
        peak_rss_mib=batcher.peak_rss_mib,
        cached_prompt_tokens=cached,
        sampling_changes=tuple(changes),
        mean_logprob=mean_logprob,
        perplexity=perplexity,
        mean_entropy=mean_entropy,
    )


def _record(
    recorder: ProbabilityRecorder, token: int, index: int, context: LlamaContext
) -> TokenProbabilities:
    record = recorder.take(token, index)
    if record is None:
        raise EngineError(
            f"{context.file_name}: token probabilities: the sampler chain reported nothing "
            f"for token {index + 1}"
        )
    return record


def _end_reason(max_asked: int, room: int) -> StopReason:
    """Why an answer that used all its tokens ended: max tokens, or a context that filled up
    first (`room` tokens were left after the prompt; `max_asked` is the max tokens in force)."""
    return "context_full" if room < max_asked else "length"


def _cancelled_during_prompt(mode: PromptMode, prompt_tokens: int) -> GenerationStats:
    return GenerationStats(
        stop_reason="cancelled",
        prompt_mode=mode,
        prompt_tokens=prompt_tokens,
        generated_tokens=0,
        ttft_s=None,
        prompt_tps=None,
        decode_tps=None,
        engine_decode_tps=None,
        peak_rss_mib=resident_mib_now(),
    )
