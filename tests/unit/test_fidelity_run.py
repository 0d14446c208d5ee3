"""Which pane is the reference of a fidelity run, and what panes that cannot run get."""

from __future__ import annotations

from types import SimpleNamespace

from engines.types import ModelSettings, SamplingParams
from profiles.fidelity_run import choose_reference, run_fidelity
from profiles.plan import PanePlan

FILES = {
    "q4.gguf": SimpleNamespace(architecture="llama", file_size=80, n_params=135),
    "q8.gguf": SimpleNamespace(architecture="llama", file_size=145, n_params=135),
    "big-q4.gguf": SimpleNamespace(architecture="llama", file_size=900, n_params=1700),
    "gemma.gguf": SimpleNamespace(architecture="gemma3", file_size=500, n_params=270),
}


def _plan(index: int, path: str, kind: str = "local", reference: bool = False) -> PanePlan:
    return PanePlan(
        index, path, path, kind, ModelSettings(path=path), SamplingParams(), reference=reference
    )


def test_the_marked_pane_is_the_reference():
    plans = [_plan(0, "q8.gguf"), _plan(1, "q4.gguf", reference=True)]
    assert choose_reference(plans, FILES.__getitem__) == 1


def test_else_the_most_bits_per_weight_among_the_most_common_architecture():
    plans = [_plan(0, "gemma.gguf"), _plan(1, "q4.gguf"), _plan(2, "big-q4.gguf")]
    plans.append(_plan(3, "q8.gguf"))
    # gemma has the most bits per weight (14.8) but is alone of its architecture
    assert choose_reference(plans, FILES.__getitem__) == 3


def test_served_and_unreadable_panes_are_never_the_reference():
    def metadata(path: str):
        if path == "broken.gguf":
            raise ValueError("not GGUF")
        return FILES[path]

    plans = [_plan(0, "openai:http://x#m", kind="openai"), _plan(1, "broken.gguf")]
    assert choose_reference(plans, metadata) is None
    plans.append(_plan(2, "q4.gguf"))
    assert choose_reference(plans, metadata) == 2


def test_a_served_pane_gets_one_line_and_no_worker():
    def no_handles(plan):
        raise AssertionError("no worker may start for a served model")

    plans = [_plan(0, "openai:http://127.0.0.1:9/v1#m", kind="openai")]
    outcome = run_fidelity(plans, "text", 64, handle_factory=no_handles)
    assert outcome.reference is None
    assert outcome.figures[0].error == (
        "fidelity needs a local GGUF model: a served model gives no logits"
    )
