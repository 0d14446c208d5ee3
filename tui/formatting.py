"""How the TUI and the CLI write numbers: parameter counts, sizes, speeds, unknowns.

One definition each, so a model's size reads the same in its pane header, the model
picker, the comparison table and `llmbench models`. Plain functions, no Textual.
"""

from __future__ import annotations

UNKNOWN = "—"
"""What a figure that is not known shows as (never a made-up number)."""

KIB = 1 << 10
MIB = 1 << 20
GIB = 1 << 30


def short_count(count: int | None, unknown: str = UNKNOWN) -> str:
    """A count as people write it: 135_000_000 → "135M", 3_210_000_000 → "3.2B"."""
    if not count:
        return unknown
    for limit, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "K")):
        if count >= limit:
            value = count / limit
            return f"{value:.1f}{suffix}" if value < 10 else f"{value:.0f}{suffix}"
    return str(count)


def format_bytes(count: int | None, unknown: str = UNKNOWN) -> str:
    """Bytes in binary units, one decimal below 100: "512 B", "93.8 MiB", "241 MiB", "4.6 GiB"."""
    if count is None:
        return unknown
    for limit, unit in ((GIB, "GiB"), (MIB, "MiB"), (KIB, "KiB")):
        if count >= limit:
            value = count / limit
            return f"{value:.1f} {unit}" if value < 100 else f"{value:.0f} {unit}"
    return f"{count} B"


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
