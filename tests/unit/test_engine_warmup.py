"""The warm-up evaluation at load: it runs, and it leaves no trace in memory, figures or text.

llama.cpp's first evaluation after a load pays one-time costs; `LlamaEngine.load` pays
them with a throwaway evaluation of BOS (+ EOS), so they count in the load time and not
in the first answer's TTFT. Its effect on speed is measured by `benchmarks/first_run.py`
(not asserted here: timings on a shared machine are noise); these tests check what can
be checked exactly.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from engines.local.engine import LlamaEngine
from engines.types import GenerationRequest, ModelSettings, SamplingParams

pytestmark = pytest.mark.real_model

GREEDY = SamplingParams(temperature=0.0, max_tokens=12, seed=3)
PROMPT = "Name three colours."


def loaded(path: Path, warm_up: bool = True) -> LlamaEngine:
    engine = LlamaEngine(ModelSettings(path=str(path), n_ctx=512), warm_up=warm_up)
    engine.load()
    return engine


def answer(engine: LlamaEngine) -> tuple[str, int | None, int]:
    from engines.protocol import TokensGenerated

    parts: list[str] = []

    def emit(event: object) -> None:
        if isinstance(event, TokensGenerated):
            parts.append(event.text)

    stats = engine.generate(GenerationRequest(PROMPT, GREEDY, request_id="r"), emit)
    return "".join(parts), stats.prompt_tokens, stats.generated_tokens


@pytest.mark.parametrize("model", ["smollm2_path", "gemma_path"])
def test_load_evaluates_bos_and_eos_once_then_forgets_them(
    model: str, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    import llama_cpp

    decoded: list[int] = []
    real_decode = llama_cpp.llama_decode

    def counting_decode(ctx, batch):
        decoded.append(batch.n_tokens)
        return real_decode(ctx, batch)

    monkeypatch.setattr(llama_cpp, "llama_decode", counting_decode)
    engine = loaded(request.getfixturevalue(model))
    try:
        lib = engine.context.lib
        special = {
            lib.llama_vocab_bos(engine.context.vocab),
            lib.llama_vocab_eos(engine.context.vocab),
        }
        assert engine.warmed_up
        assert decoded == [len(special - {-1})]
        assert lib.llama_memory_seq_pos_max(engine.context.memory, 0) == -1  # nothing kept
        perf = lib.llama_perf_context(engine.context.ctx)
        assert perf.t_p_eval_ms == 0 and perf.t_eval_ms == 0  # no figure counts it
        assert engine.context.cached_tokens == []
    finally:
        engine.close()


def test_warm_up_can_be_skipped(smollm2_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import llama_cpp

    decoded: list[int] = []
    real_decode = llama_cpp.llama_decode
    monkeypatch.setattr(
        llama_cpp, "llama_decode", lambda ctx, batch: decoded.append(1) or real_decode(ctx, batch)
    )
    engine = loaded(smollm2_path, warm_up=False)
    engine.close()
    assert not engine.warmed_up and decoded == []


def test_the_first_answer_is_the_same_with_and_without_warm_up(smollm2_path: Path) -> None:
    answers = []
    for warm_up in (False, True):
        engine = loaded(smollm2_path, warm_up=warm_up)
        try:
            answers.append(answer(engine))
        finally:
            engine.close()
    cold, warm = answers
    assert warm == cold
    assert warm[0].strip() and warm[2] > 0
