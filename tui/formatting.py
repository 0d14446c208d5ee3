"""How the TUI and the CLI write numbers: parameter counts, sizes, speeds, unknowns.

Counts and sizes come from `engines.units` (shared with the engines and the exports);
the rest is the interface's own. Plain functions, no Textual.
"""

from __future__ import annotations

from engines.units import GIB, KIB, MIB, UNKNOWN, format_bytes, short_count

__all__ = ["GIB", "KIB", "MIB", "UNKNOWN", "format_bytes", "short_count"]


def gib(count: int | None) -> str:
    """Bytes as a bare number of GiB with one decimal ("3.9"); "—" when unknown."""
    return UNKNOWN if count is None else f"{count / GIB:.1f}"


def number(value: float | None, spec: str = ".1f", unit: str = "") -> str:
    """`value` in the format `spec`, then `unit`; "—" (no unit) when unknown."""
    return UNKNOWN if value is None else f"{value:{spec}}{unit}"


def speed(value: float | None) -> str:
    """A token rate with one decimal ("183.4"); "—" when unknown."""
    return number(value, ".1f")


def shorten(text: str, width: int) -> str:
    """`text` in at most `width` characters: the middle gives way to "…", so the start and
    the end (a quant, a host) both stay readable."""
    if len(text) <= width:
        return text
    tail = (width - 1) // 2
    return text[: width - 1 - tail] + "…" + (text[-tail:] if tail else "")


def chart_value(value: float) -> str:
    """A value beside a bar: one decimal below 100, whole numbers (with separators) above."""
    return f"{value:,.1f}" if value < 100 else f"{value:,.0f}"
