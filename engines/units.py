"""How llmbench writes counts and sizes for people: one definition for every layer.

A model's parameter count and file size read the same in a pane header, the model
picker, `llmbench models` and a Markdown export.
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
