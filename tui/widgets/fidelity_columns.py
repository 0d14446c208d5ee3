"""The fidelity figures as columns of the comparison table: PPL, KLD and top-1 %.

After "Measure fidelity" each pane has `FidelityFigures` (docs/metrics.md, "Fidelity").
The comparison table shows them beside the cost figures of the same panes, so the
quant-ladder profile answers "what does Q4 cost me against Q8" on one screen: size and
speed in the columns before, perplexity and divergence from the reference here.

A cell reads "—" when the figure is unknown (not measured, another vocabulary), "ref" in
the KLD and top-1 columns of the reference pane, and "★" marks the best value of a column
among at least two panes: lowest perplexity and KLD, highest top-1 %.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from rich.text import Text

from engines.fidelity.figures import FidelityFigures
from tui.formatting import UNKNOWN

REFERENCE_CELL = "ref"


@dataclass(frozen=True)
class FidelityColumn:
    """One fidelity figure in the table: how to read it and how to print it."""

    key: str
    header: str
    value: Callable[[FidelityFigures], float | None]
    format: str
    best: str
    """"min" or "max"."""
    relative_to_reference: bool = False
    """KLD and top-1 compare with the reference: its own cell says "ref"."""


FIDELITY_COLUMNS: tuple[FidelityColumn, ...] = (
    FidelityColumn("fidelity_ppl", "PPL", lambda f: f.ppl, ".2f", "min"),
    FidelityColumn(
        "fidelity_kld", "KLD", lambda f: f.kld, ".4f", "min", relative_to_reference=True
    ),
    FidelityColumn(
        "fidelity_top1",
        "top-1 %",
        lambda f: f.same_top_pct,
        ".1f",
        "max",
        relative_to_reference=True,
    ),
)

FIDELITY_LEGEND = (
    "PPL: perplexity of the reference text (lower is better; ppl is the answer's own); KLD and top-1 %: "
    "divergence from the reference pane's token distribution and how often both pick "
    "the same top token"
)


def usable(figures: FidelityFigures | None) -> FidelityFigures | None:
    """The figures if the pass finished; None for a failed or cancelled pass."""
    if figures is None or figures.error or figures.cancelled:
        return None
    return figures


def fidelity_best(figures: Mapping[str, FidelityFigures]) -> dict[str, float]:
    """The best value of each fidelity column where at least two panes have one."""
    best: dict[str, float] = {}
    finished = [f for f in figures.values() if usable(f) is not None]
    for column in FIDELITY_COLUMNS:
        known = [
            value
            for f in finished
            if not (column.relative_to_reference and f.is_reference)
            and (value := column.value(f)) is not None
        ]
        if len(known) >= 2:
            best[column.key] = min(known) if column.best == "min" else max(known)
    return best


def fidelity_cell(
    column: FidelityColumn, figures: FidelityFigures | None, best: float | None
) -> Text:
    """One right-aligned cell: "ref", "—", or the value ("★ value" when it is the best)."""
    figures = usable(figures)
    if figures is not None and column.relative_to_reference and figures.is_reference:
        return Text(REFERENCE_CELL, style="italic", justify="right")
    value = column.value(figures) if figures is not None else None
    if value is None:
        return Text(UNKNOWN, justify="right")
    shown = format(value, column.format)
    if best is not None and value == best:
        return Text(f"★ {shown}", style="bold green", justify="right")
    return Text(shown, justify="right")
