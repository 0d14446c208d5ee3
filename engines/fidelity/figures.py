"""The plain data of a fidelity run: what a pane is asked to evaluate and what it reports.

Both cross the pipe to and from a model worker (`engines.protocol.Evaluate`,
`FidelityFinished`), so they are small frozen dataclasses. The figures follow
docs/metrics.md ("Fidelity").
"""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_FIDELITY_CTX = 512
"""llama-perplexity's default context: windows of 512 tokens, the last 255 of each scored."""


@dataclass(frozen=True)
class FidelityRequest:
    """Evaluate a text in windows of n_ctx tokens (see `engines.fidelity.stats`)."""

    text: str
    n_ctx: int = DEFAULT_FIDELITY_CTX
    n_batch: int = DEFAULT_FIDELITY_CTX
    """Tokens per llama_decode call (at most n_ctx); llama-perplexity's -b."""
    save_reference: str | None = None
    """Write this model's top candidates to this file: the reference pass."""
    reference: str | None = None
    """Compare against the reference candidates saved in this file."""
    reference_label: str = ""
    """What the reference pane is called, for the "other vocabulary" message."""
    top_k: int = 2048
    request_id: str = ""


@dataclass(frozen=True)
class FidelityFigures:
    """One pane's fidelity figures. None: not measured (shown "—"); `note` says why."""

    ppl: float | None = None
    ppl_err: float | None = None
    scored_tokens: int = 0
    windows: int = 0
    n_ctx: int = 0
    tokens_per_s: float | None = None
    """Tokens evaluated (whole windows) per second of the pass, logits work included."""
    engine_tokens_per_s: float | None = None
    """The same tokens / llama.cpp's own evaluation time in the pass (its perf counters):
    tokens_per_s / engine_tokens_per_s is the share of the pass that is llama.cpp's work."""
    elapsed_s: float | None = None
    kld: float | None = None
    kld_err: float | None = None
    kld_p99: float | None = None
    kld_max: float | None = None
    same_top_pct: float | None = None
    same_top_err_pct: float | None = None
    dp_mean_pct: float | None = None
    dp_err_pct: float | None = None
    dp_rms_pct: float | None = None
    ref_ppl: float | None = None
    ref_ppl_err: float | None = None
    reference_label: str = ""
    """The reference pane compared against ("" when none)."""
    is_reference: bool = False
    note: str | None = None
    """Why something is missing, e.g. a vocabulary other than the reference's."""
    error: str | None = None
    """Why the pass failed (then no figures)."""
    cancelled: bool = False
