"""Fidelity runs on the real demo models through real workers (llama.cpp in child processes).

SmolLM2 against itself (KLD 0, same top token 100 %), against Gemma (another vocabulary:
perplexity only, and why), and a real quantization ladder of three: the demo's Q4_1 and
two copies made here with llama.cpp's own quantizer (llama_model_quantize). Short
windows (n_ctx 128) over the start of the bundled text keep each pass to seconds.
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from gguf_quantize import quantize

from engines.fidelity.reference_store import load_reference
from engines.fidelity.reference_text import bundled_text
from engines.paths import cache_dir
from engines.types import ModelSettings, SamplingParams
from profiles.fidelity_run import FidelityProgress, run_fidelity
from profiles.plan import PanePlan, open_handle

pytestmark = pytest.mark.real_model

N_CTX = 128
TEXT = bundled_text()[:3000]


def _plan(index: int, path: Path, label: str, reference: bool = False) -> PanePlan:
    settings = ModelSettings(path=str(path), n_ctx=512, n_threads=2, label=label)
    return PanePlan(
        index, label, str(path), "local", settings, SamplingParams(), reference=reference
    )


@pytest.fixture(scope="module")
def ladder(smollm2_path: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("ladder")
    return {
        "Q8_0": quantize(smollm2_path, folder / "smollm2-q8_0.gguf", "Q8_0"),
        "Q4_1": smollm2_path,
        "Q4_0": quantize(smollm2_path, folder / "smollm2-q4_0.gguf", "Q4_0"),
    }


@pytest.mark.timeout(900)
def test_smollm2_against_itself_and_the_cached_reference(smollm2_path: Path):
    plans = [_plan(0, smollm2_path, "first"), _plan(1, smollm2_path, "second")]
    started: list[str] = []

    def counting_factory(plan: PanePlan):
        started.append(plan.label)
        return open_handle(plan)

    outcome = run_fidelity(plans, TEXT, N_CTX, handle_factory=counting_factory)
    reference, other = outcome.figures[0], outcome.figures[1]
    assert outcome.reference == 0 and reference.is_reference
    assert reference.error is None and reference.ppl is not None and reference.ppl > 1
    assert reference.windows >= 2 and reference.scored_tokens == reference.windows * 63
    assert other.error is None, other.error
    assert abs(other.kld) < 1e-6
    assert other.same_top_pct == 100.0
    assert other.dp_mean_pct == pytest.approx(0.0, abs=1e-6)
    assert other.ppl == pytest.approx(reference.ppl, rel=1e-9)
    assert other.reference_label == "first"
    assert started == ["first", "second"]

    progress: list[FidelityProgress] = []
    started.clear()
    again = run_fidelity(
        plans, TEXT, N_CTX, handle_factory=counting_factory, on_progress=progress.append
    )
    assert started == ["second"], "the reference's candidates come from the cache"
    assert any(p.phase == "cached" and p.pane == 0 for p in progress)
    assert again.figures[0].ppl == pytest.approx(reference.ppl, rel=1e-12)
    assert abs(again.figures[1].kld) < 1e-6
    evaluating = [p for p in progress if p.phase == "evaluating" and p.total_tokens]
    assert evaluating and evaluating[-1].evaluated_tokens == evaluating[-1].total_tokens
    assert evaluating[0].eta_s is not None


def test_another_vocabulary_gets_perplexity_only_and_says_why(smollm2_path: Path, gemma_path: Path):
    plans = [_plan(0, smollm2_path, "smollm2", reference=True), _plan(1, gemma_path, "gemma")]
    outcome = run_fidelity(plans, TEXT, N_CTX)
    gemma = outcome.figures[1]
    assert gemma.error is None, gemma.error
    assert gemma.ppl is not None and gemma.ppl > 1
    assert gemma.kld is None and gemma.same_top_pct is None
    assert "another vocabulary than smollm2" in gemma.note
    assert "262144 tokens vs 49152" in gemma.note


@pytest.mark.timeout(900)
def test_a_quantization_ladder_of_three(ladder: dict[str, Path]):
    plans = [_plan(i, path, label) for i, (label, path) in enumerate(ladder.items())]
    outcome = run_fidelity(plans, TEXT, N_CTX)
    assert outcome.reference == 0, "Q8_0 has the most bits per weight"
    q8, q4_1, q4_0 = (outcome.figures[i] for i in range(3))
    for figures in (q8, q4_1, q4_0):
        assert figures.error is None, figures.error
    assert q4_1.kld > 0 and q4_0.kld > 0
    assert q4_0.kld > q4_1.kld, "Q4_0 lost more than the Q4_1 it was made from"
    assert q4_0.same_top_pct < 100.0
    assert q4_0.kld_p99 >= q4_0.kld
    candidates = load_reference(next((cache_dir() / "fidelity").glob("*.npz")))
    assert candidates.ids.shape == (q8.scored_tokens, 2048)


def test_a_pass_is_cancelled_between_windows(smollm2_path: Path):
    cancel = threading.Event()

    def on_progress(progress: FidelityProgress) -> None:
        if progress.phase == "evaluating" and progress.evaluated_tokens >= N_CTX:
            cancel.set()

    outcome = run_fidelity(
        [_plan(0, smollm2_path, "only")],
        bundled_text(),
        N_CTX,
        on_progress=on_progress,
        cancel=cancel,
    )
    assert outcome.figures[0].cancelled
    assert outcome.figures[0].ppl is None


def test_a_text_too_short_is_one_line_naming_the_file(smollm2_path: Path):
    outcome = run_fidelity([_plan(0, smollm2_path, "only")], "Too short.", N_CTX)
    error = outcome.figures[0].error
    assert error is not None and "\n" not in error
    assert smollm2_path.name in error and "at least 256" in error
