"""A pane asks a local model for token probabilities and keeps them; its seed mode applies."""

from __future__ import annotations

from dataclasses import replace

from engines.fake import FakeModelHandle, FakeScript, fake_model_info
from engines.protocol import ModelLoaded, TokensGenerated
from engines.types import (
    DEFAULT_TOP_CANDIDATES,
    ModelSettings,
    SamplingParams,
    TokenCandidate,
    TokenProbabilities,
)
from profiles.plan import PanePlan
from tui.pane_controller import PaneController


def ready_controller(kind: str = "local", seed_mode: str = "fixed", serves: bool = True):
    plan = PanePlan(
        index=0,
        label="small",
        model_ref="demo:smollm2-135m",
        kind=kind,  # type: ignore[arg-type]
        settings=ModelSettings(path="/models/x.gguf"),
        sampling=SamplingParams(seed=42),
        seed_mode=seed_mode,  # type: ignore[arg-type]
    )
    handle = FakeModelHandle(FakeScript(token_probabilities=serves))
    controller = PaneController(plan, lambda _plan: handle)
    controller.driver.open()  # opens `handle` through the factory
    controller.apply(ModelLoaded(fake_model_info(plan.settings)))
    return controller, handle


def record(index: int) -> TokenProbabilities:
    chosen = TokenCandidate(7, "a", 0.5, 3.0)
    return TokenProbabilities(index, 7, "a", 0.5, 1, 3.0, (chosen,), (chosen,), 0.7, 2, 0.7)


def test_a_local_pane_records_token_probabilities_by_default() -> None:
    controller, handle = ready_controller()
    controller.request_run("Hi", None)
    request = handle.requests[-1]
    assert request.top_candidates == DEFAULT_TOP_CANDIDATES
    batch = TokensGenerated(
        request.request_id, "aa", 2, (1.0, 2.0), 0, probabilities=(record(0), record(1))
    )
    controller.apply(batch)
    assert [r.index for r in controller.token_probabilities] == [0, 1]
    controller.token_probabilities_on = False
    controller.apply(replace(batch, request_id="old"))  # another run's batch: ignored
    assert len(controller.token_probabilities) == 2


def test_a_server_without_logprobs_is_asked_for_none_and_the_toggle_turns_them_off() -> None:
    controller, handle = ready_controller(kind="openai", serves=False)
    controller.request_run("Hi", None)
    assert handle.requests[-1].top_candidates == 0
    assert not controller.serves_token_probabilities
    controller, handle = ready_controller(kind="openai", serves=True)
    controller.request_run("Hi", None)
    assert handle.requests[-1].top_candidates == DEFAULT_TOP_CANDIDATES
    controller, handle = ready_controller()
    controller.token_probabilities_on = False
    controller.request_run("Hi", None)
    assert handle.requests[-1].top_candidates == 0


def test_seed_mode_new_gives_each_run_its_own_recorded_seed() -> None:
    controller, handle = ready_controller(seed_mode="new")
    seeds = set()
    for _ in range(3):
        controller.request_run("Hi", None)
        seeds.add(handle.requests[-1].sampling.seed)
        controller.stop()
        controller.state = controller.state.READY
    assert len(seeds) == 3
    fixed, fixed_handle = ready_controller()
    fixed.request_run("Hi", None)
    assert fixed_handle.requests[-1].sampling.seed == 42
