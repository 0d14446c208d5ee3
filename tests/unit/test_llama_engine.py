"""The in-process llama.cpp engine: text streaming pieces, the sampler chain, and real runs.

Real-model tests load each demo model once per module (n_ctx 512) and keep answers short.
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from engines.local.engine import EngineError, LlamaEngine, NoControl
from engines.local.sampler_chain import REPEAT_PENALTY_LAST_N, SamplerChain, check_sampling
from engines.local.stop_strings import StopStringMatcher
from engines.local.utf8_stream import Utf8Stream
from engines.protocol import GenerationStarted, SamplingChanged, TokensGenerated
from engines.types import GenerationRequest, ModelSettings, SamplingParams

GREEDY = SamplingParams(temperature=0.0, max_tokens=32, seed=1)
POEM = "Write a short poem about the sea."

# --- UTF-8 and stop strings, no model ---------------------------------------------------


@pytest.mark.parametrize("character", ["é", "日", "🌊", "👩‍🚀"])
def test_utf8_stream_holds_back_a_character_split_at_every_byte(character: str) -> None:
    data = f"a{character}b".encode()
    stream = Utf8Stream()
    shown = [stream.feed(data[i : i + 1]) for i in range(len(data))]
    assert "".join(shown) == f"a{character}b"
    assert all("\ufffd" not in piece for piece in shown)
    assert stream.pending_bytes == 0


def test_utf8_stream_shows_nothing_until_the_character_is_complete() -> None:
    stream = Utf8Stream()
    wave = "🌊".encode()
    assert stream.feed(b"sea " + wave[:2]) == "sea "
    assert stream.pending_bytes == 2
    assert stream.feed(wave[2:3]) == ""
    assert stream.feed(wave[3:] + b"!") == "🌊!"


def test_utf8_stream_marks_truly_invalid_bytes_and_drops_an_unfinished_end() -> None:
    stream = Utf8Stream()
    assert stream.feed(b"\xff ok") == "\ufffd ok"
    stream.feed("日".encode()[:2])
    assert stream.discard_pending() == 2
    assert stream.feed(b"x") == "x"


def test_stop_string_split_across_pieces_is_never_shown() -> None:
    matcher = StopStringMatcher(["###"])
    assert matcher.feed("Hello #") == ("Hello ", False)
    assert matcher.feed("#") == ("", False)
    assert matcher.feed("# rest") == ("", True)
    assert matcher.stopped


def test_stop_string_prefix_that_is_not_a_stop_is_released() -> None:
    matcher = StopStringMatcher(["END"])
    assert matcher.feed("the EN") == ("the ", False)
    assert matcher.feed("Dless") == ("", True)
    matcher = StopStringMatcher(["END"])
    assert matcher.feed("the EN") == ("the ", False)
    assert matcher.feed("ergy") == ("ENergy", False)
    assert matcher.feed(" E") == (" ", False)
    assert matcher.finish() == "E"


def test_earliest_of_several_stop_strings_wins() -> None:
    matcher = StopStringMatcher(["world", "lo"])
    assert matcher.feed("hello world") == ("hel", True)


# --- the sampler chain, no model ----------------------------------------------------------


def test_greedy_chain_penalises_only_the_candidates_that_can_win() -> None:
    chain = SamplerChain(SamplingParams(temperature=0.0, repeat_penalty=1.1), n_vocab=1000)
    assert chain.stages == [f"top_k({1 + REPEAT_PENALTY_LAST_N})", "penalties(1.1)", "greedy"]
    chain.close()
    chain.close()


def test_sampling_chain_passes_every_value_explicitly() -> None:
    params = SamplingParams(
        temperature=0.8, top_p=0.9, top_k=30, min_p=0.1, repeat_penalty=1.2, seed=5
    )
    chain = SamplerChain(params, n_vocab=1000)
    assert chain.stages == [
        f"top_k({30 + REPEAT_PENALTY_LAST_N})",
        "penalties(1.2)",
        "top_k(30)",
        "top_p(0.9)",
        "min_p(0.1)",
        "temp(0.8)",
        "dist(seed=5)",
    ]
    chain.close()


def test_a_wide_top_k_penalises_the_whole_vocabulary_instead_of_a_slow_wider_sort() -> None:
    chain = SamplerChain(SamplingParams(top_k=100, repeat_penalty=1.1), n_vocab=1000)
    assert chain.stages[:2] == ["penalties(1.1)", "top_k(100)"]
    chain.close()


def test_repeat_penalty_of_one_adds_no_penalty_stage() -> None:
    chain = SamplerChain(SamplingParams(temperature=0.0, repeat_penalty=1.0), n_vocab=1000)
    assert chain.stages == ["greedy"]
    chain.close()


@pytest.mark.parametrize(
    "changes, word",
    [
        ({"temperature": -1.0}, "temperature"),
        ({"top_p": 0.0}, "top_p"),
        ({"top_k": -2}, "top_k"),
        ({"min_p": 1.5}, "min_p"),
        ({"repeat_penalty": 0.0}, "repeat_penalty"),
        ({"max_tokens": 0}, "max_tokens"),
        ({"seed": -1}, "seed"),
    ],
)
def test_out_of_range_sampling_values_are_refused_in_one_line(changes: dict, word: str) -> None:
    with pytest.raises(ValueError, match=word) as caught:
        check_sampling(SamplingParams().with_changes(**changes))
    assert "\n" not in str(caught.value)


def test_engine_error_is_one_line() -> None:
    error = EngineError("model.gguf: could not\n load", detail="line 1\nline 2")
    assert str(error) == "model.gguf: could not load"
    assert error.detail == "line 1\nline 2"


# --- real models --------------------------------------------------------------------------


class ScriptedControl:
    """Cancels and/or changes sampling at given calls (each call happens before one token)."""

    def __init__(
        self,
        cancel_at_call: int | None = None,
        change_at_call: int | None = None,
        change: SamplingParams | None = None,
    ) -> None:
        self.cancel_at_call = cancel_at_call
        self.change_at_call = change_at_call
        self.change = change
        self.cancel_calls = 0
        self.change_calls = 0
        self.flag = threading.Event()

    def cancelled(self) -> bool:
        self.cancel_calls += 1
        return self.flag.is_set() or self.cancel_calls == self.cancel_at_call

    def take_sampling_change(self) -> SamplingParams | None:
        self.change_calls += 1
        return self.change if self.change_calls == self.change_at_call else None


def run(engine: LlamaEngine, prompt: str, sampling: SamplingParams = GREEDY, control=None, **kw):
    """Generate; return (text, stats, events)."""
    events: list = []
    request = GenerationRequest(prompt, sampling, request_id="r1", **kw)
    stats = engine.generate(request, events.append, control or NoControl())
    text = "".join(event.text for event in events if isinstance(event, TokensGenerated))
    return text, stats, events


def load_engine(path: Path, **settings) -> LlamaEngine:
    engine = LlamaEngine(ModelSettings(path=str(path), n_ctx=512, n_threads=1, **settings))
    engine.load()
    return engine


@pytest.fixture(scope="module")
def smollm(smollm2_path: Path):
    engine = load_engine(smollm2_path)
    yield engine
    engine.close()


@pytest.fixture(scope="module")
def gemma(gemma_path: Path):
    engine = load_engine(gemma_path)
    yield engine
    engine.close()


@pytest.mark.real_model
def test_chat_model_is_prompted_through_its_template(smollm: LlamaEngine) -> None:
    info = smollm.info
    assert info.has_chat_template and info.architecture == "llama"
    assert info.quantization == "Q4_1" and info.n_layers == 30 and info.n_ctx == 512
    assert info.n_threads == 1 and info.n_gpu_layers_offloaded == 0
    text, stats, events = run(smollm, "Reply with one word: is the sky blue?")
    assert stats.prompt_mode == "chat"
    assert isinstance(events[0], GenerationStarted) and events[0].prompt_mode == "chat"
    assert events[0].prompt_tokens == stats.prompt_tokens
    # The template wraps the prompt in role markers, so it is much longer than the prompt itself.
    assert (
        stats.prompt_tokens
        > len(smollm.tokenize("Reply with one word: is the sky blue?", False, False)) + 5
    )
    assert stats.stop_reason == "stop" and 0 < stats.generated_tokens < GREEDY.max_tokens
    assert text.strip() and "<|im_end|>" not in text


@pytest.mark.real_model
def test_base_model_gets_the_raw_prompt_as_a_completion(gemma: LlamaEngine) -> None:
    assert not gemma.info.has_chat_template
    prompt = "The capital of France is"
    text, stats, _ = run(gemma, prompt, GREEDY.with_changes(max_tokens=8))
    assert stats.prompt_mode == "completion"
    # The raw prompt plus the BOS token: no template around it.
    assert stats.prompt_tokens == len(gemma.tokenize(prompt, False, False)) + 1
    assert stats.generated_tokens == 8 and stats.stop_reason == "length"
    assert text.strip()


@pytest.mark.real_model
def test_system_prompt_goes_through_the_template(smollm: LlamaEngine) -> None:
    formatted = smollm._formatter.format(POEM, "You are a pirate.")
    assert formatted.mode == "chat" and "You are a pirate." in formatted.text
    assert formatted.text.index("You are a pirate.") < formatted.text.index(POEM)
    _, plain, _ = run(smollm, POEM, GREEDY.with_changes(max_tokens=1))
    _, with_system, _ = run(
        smollm, POEM, GREEDY.with_changes(max_tokens=1), system_prompt="You are a pirate."
    )
    assert with_system.prompt_tokens != plain.prompt_tokens


@pytest.mark.real_model
def test_greedy_is_deterministic_also_after_the_prompt_cache_and_other_prompts(
    smollm: LlamaEngine,
) -> None:
    first, first_stats, _ = run(smollm, POEM)
    again, again_stats, _ = run(smollm, POEM)
    run(smollm, "Name three colours.")
    later, later_stats, _ = run(smollm, POEM)
    assert first == again == later
    assert again_stats.cached_prompt_tokens == again_stats.prompt_tokens - 1
    assert later_stats.cached_prompt_tokens > 0


@pytest.mark.real_model
def test_same_seed_gives_the_same_text_at_temperature_0_8(smollm: LlamaEngine) -> None:
    warm = SamplingParams(temperature=0.8, max_tokens=32, seed=1234)
    one, _, _ = run(smollm, POEM, warm)
    two, _, _ = run(smollm, POEM, warm)
    other, _, _ = run(smollm, POEM, warm.with_changes(seed=99))
    assert one == two
    assert other != one


@pytest.mark.real_model
@pytest.mark.parametrize("temperature", [0.0, 0.9])
def test_penalising_after_a_wider_top_k_matches_penalising_every_token(
    smollm: LlamaEngine, monkeypatch: pytest.MonkeyPatch, temperature: float
) -> None:
    import engines.local.sampler_chain

    values = SamplingParams(temperature=temperature, repeat_penalty=1.5, max_tokens=40, seed=11)
    narrow, _, _ = run(smollm, POEM, values)
    monkeypatch.setattr(engines.local.sampler_chain, "PARTIAL_SORT_LIMIT", 0)  # penalise all
    assert SamplerChain(values, 1000).stages[0] == "penalties(1.5)"
    everything, _, _ = run(smollm, POEM, values)
    assert narrow == everything


@pytest.mark.real_model
def test_gemma_seed_reproducibility(gemma: LlamaEngine) -> None:
    warm = SamplingParams(temperature=0.8, max_tokens=16, seed=7)
    one, _, _ = run(gemma, "Once upon a time", warm)
    two, stats, _ = run(gemma, "Once upon a time", warm)
    assert one == two
    assert stats.cached_prompt_tokens == stats.prompt_tokens - 1  # a sliding-window model too


@pytest.mark.real_model
def test_cancel_stops_before_the_next_token(smollm: LlamaEngine) -> None:
    run(smollm, POEM, GREEDY.with_changes(max_tokens=1))  # cache the prompt: one check for it
    control = ScriptedControl(cancel_at_call=7)  # the prompt's check, then 5 tokens, then stop
    _, stats, _ = run(smollm, POEM, control=control)
    assert stats.stop_reason == "cancelled"
    assert stats.generated_tokens == 5


@pytest.mark.real_model
def test_cancel_during_a_long_prompt_stops_between_batches(smollm2_path: Path) -> None:
    engine = load_engine(smollm2_path, n_batch=8)
    try:
        _, stats, events = run(engine, POEM, control=ScriptedControl(cancel_at_call=3))
        assert stats.stop_reason == "cancelled" and stats.generated_tokens == 0
        assert not [event for event in events if isinstance(event, TokensGenerated)]
        assert len(engine.context.cached_tokens) == 16  # two batches of 8 were evaluated
        # What was evaluated before the cancel is reused by the next run.
        text, again, _ = run(engine, POEM, GREEDY.with_changes(max_tokens=4))
        assert again.cached_prompt_tokens == 16 and again.generated_tokens == 4 and text
    finally:
        engine.close()


@pytest.mark.real_model
def test_cancel_from_another_thread_lands_within_one_token(smollm: LlamaEngine) -> None:
    control = ScriptedControl()
    delivered: list[int] = []

    def emit(event) -> None:
        if isinstance(event, TokensGenerated):
            delivered.append(event.n_tokens)
            canceller = threading.Thread(target=control.flag.set)
            canceller.start()
            canceller.join()

    request = GenerationRequest(POEM, GREEDY.with_changes(max_tokens=48))
    stats = smollm.generate(request, emit, control)
    assert stats.stop_reason == "cancelled"
    # The cancel came while the first token was being delivered: no token after it.
    assert delivered == [1] and stats.generated_tokens == 1


@pytest.mark.real_model
def test_live_temperature_change_applies_from_the_next_token(smollm: LlamaEngine) -> None:
    unchanged, _, _ = run(smollm, POEM)
    hot = GREEDY.with_changes(temperature=1.8, top_k=0, top_p=1.0, min_p=0.0, seed=3)
    control = ScriptedControl(change_at_call=10, change=hot)
    changed, stats, events = run(smollm, POEM, control=control)
    change_at = next(i for i, event in enumerate(events) if isinstance(event, SamplingChanged))
    assert events[change_at].at_token == 9 and events[change_at].sampling == hot
    assert [c.at_token for c in stats.sampling_changes] == [9]
    before = [event for event in events[:change_at] if isinstance(event, TokensGenerated)]
    assert sum(event.n_tokens for event in before) == 9
    text_before = "".join(event.text for event in before)
    assert unchanged.startswith(text_before)
    assert changed.startswith(text_before) and changed != unchanged
    # A live change leaves nothing behind: the next run with the original values is unchanged.
    assert run(smollm, POEM)[0] == unchanged


@pytest.mark.real_model
def test_split_characters_stream_without_replacement_characters(smollm: LlamaEngine) -> None:
    text, stats, events = run(smollm, "Translate 'good morning' into Japanese.")
    generated = smollm.context.cached_tokens[stats.prompt_tokens :]
    pieces = [smollm.context.pieces[token] for token in generated]
    split = [piece for piece in pieces if piece and not _is_utf8(piece)]
    assert split, "the answer should contain characters split across tokens"
    assert any(ord(character) > 0x2E80 for character in text)
    for event in events:
        if isinstance(event, TokensGenerated):
            assert "\ufffd" not in event.text


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


@pytest.mark.real_model
def test_stop_string_ends_the_answer_before_it(smollm: LlamaEngine) -> None:
    full, _, _ = run(smollm, POEM)
    words = full.split()
    stop = words[len(words) // 2]
    text, stats, _ = run(smollm, POEM, GREEDY.with_changes(stop=(stop,)))
    assert stats.stop_reason == "stop"
    assert text == full[: full.index(stop)]


@pytest.mark.real_model
def test_stop_string_set_live_applies_to_the_rest_of_the_answer(smollm: LlamaEngine) -> None:
    full, _, _ = run(smollm, POEM)
    stop = full.split()[len(full.split()) // 2]
    control = ScriptedControl(change_at_call=3, change=GREEDY.with_changes(stop=(stop,)))
    text, stats, _ = run(smollm, POEM, control=control)
    assert stats.stop_reason == "stop" and text == full[: full.index(stop)]


@pytest.mark.real_model
def test_max_tokens_ends_with_length(smollm: LlamaEngine) -> None:
    _, stats, events = run(smollm, POEM, GREEDY.with_changes(max_tokens=7))
    assert stats.stop_reason == "length" and stats.generated_tokens == 7
    batches = [event for event in events if isinstance(event, TokensGenerated)]
    assert sum(batch.n_tokens for batch in batches) == 7


@pytest.mark.real_model
def test_prompt_longer_than_the_context_is_a_clear_error(smollm: LlamaEngine) -> None:
    with pytest.raises(EngineError) as caught:
        run(smollm, "word " * 600)
    message = str(caught.value)
    assert message.startswith("prompt is ") and "context is 512" in message
    assert "shorten it or raise n_ctx" in message
    # The engine still works afterwards.
    assert run(smollm, POEM, GREEDY.with_changes(max_tokens=3))[1].generated_tokens == 3


@pytest.mark.real_model
def test_a_full_context_ends_the_answer_with_context_full(gemma: LlamaEngine) -> None:
    prompt = "one two three " * 165
    _, stats, _ = run(gemma, prompt, GREEDY.with_changes(max_tokens=48, repeat_penalty=1.0))
    room = 512 - stats.prompt_tokens
    assert 0 < room < 48
    assert stats.stop_reason == "context_full" and stats.generated_tokens == room
    assert run(gemma, "Hello", GREEDY.with_changes(max_tokens=2))[1].generated_tokens == 2


@pytest.mark.real_model
def test_stats_follow_the_metrics_definitions(smollm: LlamaEngine) -> None:
    _, stats, events = run(smollm, POEM, GREEDY.with_changes(max_tokens=40, stop=()))
    batches = [event for event in events if isinstance(event, TokensGenerated)]
    times = [t for batch in batches for t in batch.ready_times]
    assert len(times) == stats.generated_tokens == 40
    assert times == sorted(times)
    assert batches[0].n_tokens == 1  # the first token is sent at once: it sets the TTFT
    indexes = [batch.first_token_index for batch in batches]
    assert indexes == [sum(b.n_tokens for b in batches[:i]) for i in range(len(batches))]
    assert stats.decode_tps == pytest.approx(39 / (times[-1] - times[0]))
    assert stats.engine_decode_tps and stats.prompt_tps and stats.sampling_ms_per_token
    # Every interval between two ready times holds one llama.cpp evaluation plus our own
    # work, so the user's speed can only be below llama.cpp's (clock rounding aside).
    assert 0.5 < stats.decode_tps / stats.engine_decode_tps <= 1.001
    assert stats.peak_rss_mib and stats.peak_rss_mib > 50
    assert stats.ttft_s is None


@pytest.mark.real_model
def test_unusable_load_settings_give_warnings_and_default_threads(smollm2_path: Path) -> None:
    from engines.local.backend import backend_info
    from engines.machine.threads import default_threads

    engine = LlamaEngine(
        ModelSettings(
            path=str(smollm2_path),
            n_ctx=512,
            n_threads=None,
            n_gpu_layers=5,
            rpc_servers=("127.0.0.1:50052",),
        )
    )
    try:
        info = engine.load()
        assert info.n_threads == default_threads(1)
        if backend_info().gpu_offload:
            assert info.n_gpu_layers_offloaded == 5
        else:
            assert info.n_gpu_layers_offloaded == 0
            assert any("asked for 5 GPU layers" in warning for warning in info.warnings)
        if not engine.context.lib.llama_supports_rpc():
            assert any("127.0.0.1:50052" in warning for warning in info.warnings)
    finally:
        engine.close()


@pytest.mark.real_model
def test_live_max_tokens_change_ends_the_run_there(smollm: LlamaEngine) -> None:
    shorter = GREEDY.with_changes(max_tokens=6)
    control = ScriptedControl(change_at_call=4, change=shorter)
    _, stats, _ = run(smollm, POEM, control=control)
    assert stats.stop_reason == "length" and stats.generated_tokens == 6
    assert stats.sampling_changes[0].at_token == 3


@pytest.mark.real_model
def test_load_reports_progress_up_to_one(smollm2_path: Path) -> None:
    engine = LlamaEngine(ModelSettings(path=str(smollm2_path), n_ctx=512, n_threads=1))
    seen: list[float] = []
    try:
        engine.load(seen.append)
    finally:
        engine.close()
    assert seen[-1] == 1.0 and seen == sorted(seen) and len(seen) >= 2


# --- files llama.cpp cannot load -----------------------------------------------------------


def _write_gguf(path: Path, architecture: str, with_llama_keys: bool = False) -> Path:
    import gguf
    import numpy as np

    writer = gguf.GGUFWriter(str(path), architecture)
    writer.add_block_count(1)
    if with_llama_keys:
        writer.add_context_length(64)
        writer.add_embedding_length(8)
        writer.add_feed_forward_length(16)
        writer.add_head_count(2)
    writer.add_tensor("token_embd.weight", np.zeros((4, 8), dtype=np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


@pytest.mark.parametrize(
    "make, expected",
    [
        (lambda d: _write_gguf(d / "madeup.gguf", "madeup"), "architecture 'madeup'"),
        (lambda d: _write_gguf(d / "hollow.gguf", "llama", with_llama_keys=True), "could not load"),
        (lambda d: d / "missing.gguf", "no such file"),
        (lambda d: d, "directory"),
    ],
    ids=["unknown-architecture", "missing-tensors", "missing-file", "directory"],
)
def test_a_file_llama_cpp_cannot_load_is_a_one_line_error_naming_it(
    tmp_path: Path, make, expected: str
) -> None:
    path = make(tmp_path)
    engine = LlamaEngine(ModelSettings(path=str(path), n_ctx=512, n_threads=1))
    with pytest.raises(EngineError) as caught:
        engine.load()
    message = str(caught.value)
    assert path.name in message and expected in message and "\n" not in message
    engine.close()


def test_truncated_gguf_is_refused_before_llama_cpp_sees_it(tmp_path: Path) -> None:
    whole = _write_gguf(tmp_path / "whole.gguf", "llama", with_llama_keys=True).read_bytes()
    truncated = tmp_path / "truncated.gguf"
    truncated.write_bytes(whole[:40])
    with pytest.raises(EngineError, match="truncated.gguf"):
        LlamaEngine(ModelSettings(path=str(truncated), n_ctx=512)).load()


def test_generating_before_loading_is_an_error() -> None:
    engine = LlamaEngine(ModelSettings(path="/nowhere/model.gguf"))
    with pytest.raises(EngineError, match="not loaded"):
        engine.generate(GenerationRequest("hi"), lambda event: None, NoControl())
