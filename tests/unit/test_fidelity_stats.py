"""The fidelity statistics against values worked out by hand (llama-perplexity's estimators)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from engines.fidelity import stats


def test_windows_follow_llama_perplexity():
    assert stats.window_starts(1100, 512) == [0, 512]  # the incomplete third window is dropped
    assert stats.first_scored(512) == 256
    assert stats.scored_per_window(512) == 255  # positions 256..510 predict tokens 257..511
    assert stats.min_tokens(512) == 1024


def test_row_norms_and_token_log_probs():
    logits = np.array([[0.0, math.log(3.0)], [5.0, 5.0]], dtype=np.float32)
    norms = stats.row_norms(logits)
    assert norms.argmax.tolist() == [1, 0]
    assert norms.log_norm == pytest.approx([math.log(4.0), 5.0 + math.log(2.0)], rel=1e-6)
    log_p = stats.token_log_probs(logits, norms, np.array([1, 1]))
    assert log_p == pytest.approx([math.log(0.75), math.log(0.5)], rel=1e-6)


def test_top_candidates_most_likely_first():
    logits = np.array([[1.0, 3.0, 2.0, -1.0]], dtype=np.float32)
    norms = stats.row_norms(logits)
    ids, log_p = stats.top_candidates(logits, norms, 2)
    total = math.log(math.e + math.e**2 + math.e**3 + math.e**-1)
    assert ids.tolist() == [[1, 2]]
    assert log_p[0] == pytest.approx([3.0 - total, 2.0 - total], rel=1e-6)


def _logits_of(probs):
    return np.log(np.array([probs], dtype=np.float64)).astype(np.float32)


def test_kld_with_every_candidate_is_the_exact_divergence():
    p, q = [0.5, 0.5], [0.25, 0.75]
    ref = _logits_of(p)
    ids, log_p = stats.top_candidates(ref, stats.row_norms(ref), 2)
    logits = _logits_of(q)
    kld = stats.kld_rows(ids, log_p, logits, stats.row_norms(logits))
    assert kld[0] == pytest.approx(0.5 * math.log(4 / 3), rel=1e-5)


def test_kld_from_the_top_candidate_puts_the_rest_in_one_bucket():
    p, q = [0.5, 0.3, 0.2], [0.2, 0.5, 0.3]
    ref = _logits_of(p)
    ids, log_p = stats.top_candidates(ref, stats.row_norms(ref), 1)
    logits = _logits_of(q)
    kld = stats.kld_rows(ids, log_p, logits, stats.row_norms(logits))[0]
    assert kld == pytest.approx(0.5 * math.log(0.5 / 0.2) + 0.5 * math.log(0.5 / 0.8), rel=1e-5)
    exact = sum(a * math.log(a / b) for a, b in zip(p, q, strict=True))
    assert kld <= exact  # a lower bound of the full divergence (log-sum inequality)


def test_kld_of_a_model_against_itself_is_zero():
    rng = np.random.default_rng(1)
    logits = rng.normal(size=(6, 50)).astype(np.float32)
    norms = stats.row_norms(logits)
    ids, log_p = stats.top_candidates(logits, norms, 8)
    assert np.abs(stats.kld_rows(ids, log_p, logits, norms)).max() < 1e-6


def test_mean_and_uncertainty_as_llama_perplexity():
    mean, error = stats.mean_and_uncertainty(np.arange(1, 12))  # 1..11
    assert mean == 6.0
    assert error == pytest.approx(1.0)  # sqrt((46 - 36) / 10)
    assert stats.mean_and_uncertainty(np.arange(1, 11))[1] == 0.0  # ten values: no error


def test_perplexity_and_its_error():
    assert stats.perplexity(np.array([math.log(2)] * 2)) == (pytest.approx(2.0), 0.0)
    ppl, error = stats.perplexity(np.array([0.0, math.log(4.0)]))
    assert ppl == pytest.approx(2.0)
    assert error == pytest.approx(2.0 * math.log(2.0))  # ppl · sqrt(var / (n − 1))


def test_percentile_interpolates_like_llama_perplexity():
    assert stats.percentile(np.array([5.0, 1.0, 3.0, 2.0, 4.0]), 0.99) == pytest.approx(4.96)
    assert stats.percentile(np.array([1.0, 2.0]), 0.0) == 1.0
    assert stats.percentile(np.array([1.0, 2.0]), 1.0) == 2.0


def test_compare_same_top_and_delta_p():
    comparison = stats.compare(
        kld=np.array([0.1, 0.2, 0.3, 0.4]),
        same_top=np.array([True, False, True, True]),
        nll=np.array([math.log(2.0)] * 4),
        ref_nll=np.array([math.log(4.0)] * 4),
    )
    assert comparison.kld == pytest.approx(0.25)
    assert comparison.same_top_pct == pytest.approx(75.0)
    assert comparison.same_top_err_pct == pytest.approx(25.0)  # sqrt(.75 · .25 / 3)
    assert comparison.dp_mean_pct == pytest.approx(25.0)  # p 0.5 against the reference's 0.25
    assert comparison.dp_rms_pct == pytest.approx(25.0)
    assert comparison.ref_ppl == pytest.approx(4.0)
    assert comparison.kld_p99 == pytest.approx(0.397)


def test_the_reference_mark_is_kept_in_a_saved_profile_and_absent_elsewhere(tmp_path):
    from profiles.plan import build_plan
    from profiles.schema import PaneSpec, Profile
    from profiles.store import load_profile, save_profile

    profile = Profile(
        name="ladder",
        prompt="Hi",
        panes=[PaneSpec(model="/m/q8.gguf", reference=True), PaneSpec(model="/m/q4.gguf")],
    )
    path = save_profile(profile, tmp_path / "ladder.toml")
    text = path.read_text(encoding="utf-8")
    assert text.count("reference") == 1
    plans = build_plan(load_profile(str(path)), resolve=lambda ref: ref)
    assert [plan.reference for plan in plans] == [True, False]
