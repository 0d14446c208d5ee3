"""Repeated runs measure the same work: cold (prompt cache off) unless a warm-up made them
all warm, said in the output; cached figures are marked. Fakes for the wiring, the real
SmolLM2 for the engine and the headless path."""

from __future__ import annotations

import pytest

from engines.fake import FakeModelHandle, FakeScript
from engines.remote.stream import request_body
from engines.types import GenerationRequest, ModelSettings, SamplingParams
from profiles.plan import PanePlan
from profiles.result_recorder import ResultRecorder
from profiles.runner import run_comparison
from tui.commands.run_output import results_table


def fake_plan(index: int = 0, label: str = "small") -> PanePlan:
    return PanePlan(
        index=index, label=label, model_ref=f"demo:{label}", kind="local",
        settings=ModelSettings(path=f"/m/{label}.gguf", n_threads=1, label=label),
        sampling=SamplingParams(max_tokens=8),
    )  # fmt: skip


def _fake_run(warmup: int):
    handles: list[FakeModelHandle] = []

    def factory(plan):
        handles.append(FakeModelHandle(FakeScript()))
        return handles[-1]

    outcome = run_comparison(
        [fake_plan()], "Hi", repeat=3, warmup=warmup, handle_factory=factory, history=False
    )
    return outcome, handles[0].requests


def test_repeats_without_a_warmup_are_each_cold_and_the_table_says_so() -> None:
    outcome, requests = _fake_run(warmup=0)
    assert len(requests) == 3 and not any(r.cache_prompt for r in requests)
    assert not outcome.warm
    caption = results_table([fake_plan()], outcome).splitlines()[0]
    assert "runs cold (prompt cache off" in caption


def test_after_a_warmup_every_run_is_warm_and_the_table_says_so() -> None:
    outcome, requests = _fake_run(warmup=1)
    assert len(requests) == 4 and all(r.cache_prompt for r in requests)
    assert outcome.warm
    caption = results_table([fake_plan()], outcome).splitlines()[0]
    assert "runs warm (after the warm-up" in caption


@pytest.mark.parametrize(
    ("kind", "sent"), [("llama.cpp", True), ("unknown", True), ("openai", False)]
)
def test_a_cold_run_tells_llama_server_not_to_use_its_prompt_cache(kind: str, sent: bool) -> None:
    cold = GenerationRequest("Hi", cache_prompt=False)
    body = request_body("m", cold, kind, set())
    assert ("cache_prompt" in body) is sent and body.get("cache_prompt", False) is False
    assert "cache_prompt" not in request_body("m", GenerationRequest("Hi"), kind, set())
    assert "cache_prompt" not in request_body("m", cold, kind, {"cache_prompt"})  # refused once


@pytest.mark.real_model
def test_the_engine_reevaluates_the_whole_prompt_on_a_cold_run(smollm2_path) -> None:
    from engines.local.engine import LlamaEngine

    engine = LlamaEngine(ModelSettings(path=str(smollm2_path), n_ctx=512, n_threads=1))
    engine.load()
    try:
        greedy = SamplingParams(temperature=0.0, max_tokens=12)

        def run(cache: bool):
            request = GenerationRequest("Name two rivers.", greedy, cache_prompt=cache)
            texts: list[str] = []
            stats = engine.generate(request, lambda e: texts.append(getattr(e, "text", "")))
            return "".join(texts), stats

        first_text, first = run(cache=True)
        warm_text, warm = run(cache=True)
        cold_text, cold = run(cache=False)
    finally:
        engine.close()
    assert first.cached_prompt_tokens == 0
    assert warm.cached_prompt_tokens == warm.prompt_tokens - 1
    assert cold.cached_prompt_tokens == 0
    assert first_text == warm_text == cold_text  # the same answer either way
    # a cold run evaluates every prompt token, a warm one only the last: per-token speeds
    # of a cold run are of the same kind as the first run's, a warm run's are not
    assert cold.prompt_tokens == first.prompt_tokens


@pytest.mark.real_model
@pytest.mark.parametrize(("warmup", "cached"), [(0, False), (1, True)])
def test_headless_repeats_on_a_real_model_are_all_cold_or_all_warm(
    smollm2_path, warmup: int, cached: bool
) -> None:
    plan = PanePlan(
        index=0, label="smol", model_ref="demo:smollm2-135m", kind="local",
        settings=ModelSettings(path=str(smollm2_path), n_ctx=512, n_threads=2, label="smol"),
        sampling=SamplingParams(temperature=0.0, max_tokens=8),
    )  # fmt: skip
    outcome = run_comparison(
        [plan], "Why is the sky blue?", repeat=2, warmup=warmup,
        recorder=ResultRecorder(history=False, hash_files=False),
    )  # fmt: skip
    assert outcome.ok, outcome.failures
    assert [bool(r.figures.cached_prompt_tokens) for r in outcome.results] == [cached, cached]
    table = results_table([plan], outcome)
    row = table.splitlines()[2]
    assert ("↺" in row) is cached, table


def _table_rows(table: str) -> dict[str, str]:
    return {line.split()[0]: line for line in table.splitlines()[2:]}


@pytest.mark.parametrize("mode", ["sequential", "parallel"])
def test_the_run_table_stars_finished_panes_only_and_no_speed_in_parallel(mode: str) -> None:
    scripts = {
        0: FakeScript(tokens=tuple(f"t{i} " for i in range(8)), token_delay_s=0.002),
        1: FakeScript(tokens=tuple(f"t{i} " for i in range(8)), token_delay_s=0.02),
        2: FakeScript(fail_generation="boom"),
    }
    plans = [fake_plan(0, "fast"), fake_plan(1, "slow"), fake_plan(2, "broken")]
    outcome = run_comparison(
        plans, "Hi", mode=mode, history=False,
        handle_factory=lambda p: FakeModelHandle(scripts[p.index]),
    )  # fmt: skip
    table = results_table(plans, outcome)
    rows = _table_rows(table)
    assert "★" not in rows["broken"]
    assert rows["fast"].count("★") >= 1 and rows["slow"].count("★") >= 1  # RSS ties: both
    fast_decode = f"{outcome.results[0].figures.decode_tps:.1f}"
    if mode == "sequential":
        assert f"★ {fast_decode}" in rows["fast"], table
    else:
        assert fast_decode in rows["fast"] and f"★ {fast_decode}" not in rows["fast"], table
