"""The fidelity statistics, exactly as llama.cpp's llama-perplexity computes them (pure numpy).

docs/metrics.md defines each figure. The evaluation (`engines.local.fidelity_pass`) cuts
the text's tokens into windows of n_ctx (`window_starts`), scores the second half of each
(`first_scored`, `scored_per_window`) and hands each window's logits to the row functions
here; `summarize` turns the per-token values into the figures with their ± (the same
estimators as llama-perplexity: `perplexity_v2` and `kl_divergence` in
tools/perplexity/perplexity.cpp).

The reference's distribution is kept as its top candidates (`top_candidates`) plus the
probability it gave the text's own next token; `kld_rows` adds the rest of the
vocabulary as one "everything else" bucket, which by the log-sum inequality is a slight
lower bound of the full KL divergence (llama-perplexity itself drops reference
probabilities below e^-16 and stores log-probabilities in 16 bits).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

DEFAULT_TOP_K = 2048
"""The reference candidates kept per scored token."""


# --- windows --------------------------------------------------------------------------


def window_starts(n_tokens: int, n_ctx: int) -> list[int]:
    """Where each window of `n_ctx` tokens starts; the last incomplete one is dropped."""
    return [i * n_ctx for i in range(n_tokens // n_ctx)]


def first_scored(n_ctx: int) -> int:
    """The first position of a window whose logits are kept (its first half only gives context)."""
    return n_ctx // 2


def scored_per_window(n_ctx: int) -> int:
    """Tokens scored per window: positions first..n_ctx-2 predict the next token."""
    return n_ctx - 1 - first_scored(n_ctx)


def min_tokens(n_ctx: int) -> int:
    """The fewest tokens a text must have for a context of `n_ctx` (llama-perplexity's rule)."""
    return 2 * n_ctx


# --- per-row work on one window's logits -----------------------------------------------


@dataclass(frozen=True)
class RowNorms:
    """Each row's maximum, its index and log Σ exp(logit − max): log-softmax without the array."""

    row_max: np.ndarray
    argmax: np.ndarray
    log_sum_exp: np.ndarray

    @property
    def log_norm(self) -> np.ndarray:
        """log Σ exp(logits) per row: log p(token) = logit(token) − log_norm."""
        return self.row_max + self.log_sum_exp


def row_norms(logits: np.ndarray, work: np.ndarray | None = None) -> RowNorms:
    """The softmax normalisers of each row of `logits` (shape rows × vocabulary).

    `work`, an array of the same shape and dtype, saves allocating one per call.
    """
    rows = np.arange(len(logits))
    argmax = np.argmax(logits, axis=1)
    row_max = logits[rows, argmax]
    if work is None or work.shape != logits.shape:
        work = np.empty_like(logits)
    np.subtract(logits, row_max[:, None], out=work)
    np.exp(work, out=work)
    log_sum_exp = np.log(work.sum(axis=1).astype(np.float64))  # numpy sums pairwise
    return RowNorms(row_max.astype(np.float64), argmax, log_sum_exp)


def token_log_probs(logits: np.ndarray, norms: RowNorms, targets: np.ndarray) -> np.ndarray:
    """log p(target) per row (float64)."""
    picked = logits[np.arange(len(logits)), targets].astype(np.float64)
    return picked - norms.log_norm


def top_candidates(logits: np.ndarray, norms: RowNorms, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The `k` most likely tokens of each row, most likely first: (ids int32, log p float32)."""
    k = min(k, logits.shape[1])
    rows = np.arange(len(logits))[:, None]
    ids = np.argpartition(logits, logits.shape[1] - k, axis=1)[:, -k:]
    values = logits[rows, ids]
    order = np.argsort(-values, axis=1, kind="stable")
    ids = ids[rows, order]
    log_p = values[rows, order].astype(np.float64) - norms.log_norm[:, None]
    return ids.astype(np.int32), log_p.astype(np.float32)


def kld_rows(
    ref_ids: np.ndarray, ref_log_p: np.ndarray, logits: np.ndarray, norms: RowNorms
) -> np.ndarray:
    """KL(reference ‖ this model) per row, from the reference's top candidates.

    Σ over the candidates of p·(log p − log q), plus the rest of the vocabulary as one
    bucket: p_rest·(log p_rest − log q_rest).
    """
    rows = np.arange(len(logits))[:, None]
    log_q = logits[rows, ref_ids].astype(np.float64) - norms.log_norm[:, None]
    log_p = ref_log_p.astype(np.float64)
    p = np.exp(log_p)
    head = (p * (log_p - log_q)).sum(axis=1)
    p_rest = 1.0 - p.sum(axis=1)
    q_rest = 1.0 - np.exp(log_q).sum(axis=1)
    tail = np.zeros_like(head)
    mask = (p_rest > 1e-12) & (q_rest > 1e-12)
    tail[mask] = p_rest[mask] * (np.log(p_rest[mask]) - np.log(q_rest[mask]))
    return head + tail


# --- the figures ------------------------------------------------------------------------


def mean_and_uncertainty(values: np.ndarray) -> tuple[float, float]:
    """The mean and its standard error, as llama-perplexity's `mean_and_uncertainty`.

    The error is sqrt((mean(x²) − mean(x)²) / (n − 1)); 0 for 10 values or fewer.
    """
    values = np.asarray(values, dtype=np.float64)
    count = len(values)
    if count < 1:
        return 0.0, 0.0
    mean = float(values.mean())
    spread = float((values * values).mean()) - mean * mean
    error = math.sqrt(spread / (count - 1)) if spread > 0 and count > 10 else 0.0
    return mean, error


def perplexity(nll: np.ndarray) -> tuple[float, float]:
    """exp(mean negative log-likelihood) and its ±, as llama-perplexity's final estimate."""
    nll = np.asarray(nll, dtype=np.float64)
    count = len(nll)
    if count < 1:
        return math.nan, math.nan
    mean = float(nll.mean())
    ppl = math.exp(mean)
    spread = float((nll * nll).mean()) - mean * mean
    error = ppl * math.sqrt(spread / (count - 1)) if spread > 0 and count > 1 else 0.0
    return ppl, error


def percentile(values: np.ndarray, fraction: float) -> float:
    """llama-perplexity's percentile: linear between the two nearest sorted values."""
    ordered = np.sort(np.asarray(values, dtype=np.float64))
    if fraction <= 0:
        return float(ordered[0])
    if fraction >= 1:
        return float(ordered[-1])
    position = fraction * (len(ordered) - 1)
    low = int(position)
    part = position - low
    high = min(low + 1, len(ordered) - 1)
    return float((1 - part) * ordered[low] + part * ordered[high])


@dataclass(frozen=True)
class Comparison:
    """How a model's next-token distributions differ from the reference's (docs/metrics.md)."""

    kld: float
    kld_err: float
    kld_p99: float
    kld_max: float
    same_top_pct: float
    same_top_err_pct: float
    dp_mean_pct: float
    dp_err_pct: float
    dp_rms_pct: float
    ref_ppl: float
    ref_ppl_err: float


def compare(
    kld: np.ndarray, same_top: np.ndarray, nll: np.ndarray, ref_nll: np.ndarray
) -> Comparison:
    """The comparison figures from per-token values (`nll`, `ref_nll`: −log p of the text's token)."""
    kld = np.asarray(kld, dtype=np.float64)
    count = len(kld)
    kld_mean, kld_err = mean_and_uncertainty(kld)
    same = float(np.count_nonzero(same_top)) / count if count else math.nan
    same_err = math.sqrt(same * (1 - same) / (count - 1)) if count > 1 else 0.0
    p_diff = np.exp(-np.asarray(nll, dtype=np.float64)) - np.exp(-np.asarray(ref_nll, np.float64))
    dp_mean, dp_err = mean_and_uncertainty(p_diff)
    dp_mse, _ = mean_and_uncertainty(p_diff * p_diff)
    ref_ppl, ref_err = perplexity(ref_nll)
    return Comparison(
        kld=kld_mean,
        kld_err=kld_err,
        kld_p99=percentile(kld, 0.99) if count else math.nan,
        kld_max=float(kld.max()) if count else math.nan,
        same_top_pct=100.0 * same,
        same_top_err_pct=100.0 * same_err,
        dp_mean_pct=100.0 * dp_mean,
        dp_err_pct=100.0 * dp_err,
        dp_rms_pct=100.0 * math.sqrt(dp_mse),
        ref_ppl=ref_ppl,
        ref_ppl_err=ref_err,
    )
