"""The one table of allowed sampling values, used everywhere.

The profile schema builds its field constraints from it (`profiles/schema.py`), the engine
checks each generation against it (`engines/local/sampler_chain.check_sampling`), and so the
command line (whose values go through the schema) and the workbench's editors refuse the
same values with the same ranges: a value the profile accepts is never refused later by
the engine on every generation (as `top_p = 0` once was).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Range:
    """An allowed interval: `low` to `high`, each end included unless marked open."""

    low: float
    high: float
    low_open: bool = False
    """`low` itself is refused (top_p > 0, repeat_penalty > 0)."""
    note: str = ""
    """What the values mean, for messages (e.g. "1 = off")."""

    def contains(self, value: float) -> bool:
        """Whether `value` is allowed."""
        above = value > self.low if self.low_open else value >= self.low
        return above and value <= self.high

    def describe(self) -> str:
        """The interval as people read it: "(0, 1]", "[0, 2]"."""
        return f"{'(' if self.low_open else '['}{_number(self.low)}, {_number(self.high)}]"

    def field_bounds(self) -> dict[str, Any]:
        """The pydantic `Field` constraints for this interval."""
        return {"gt" if self.low_open else "ge": self.low, "le": self.high}


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


SAMPLING_RANGES: dict[str, Range] = {
    "temperature": Range(0.0, 2.0, note="0 = greedy"),
    "top_p": Range(0.0, 1.0, low_open=True, note="1 = off"),
    "top_k": Range(0, 1000, note="0 = off"),
    "min_p": Range(0.0, 1.0, note="0 = off"),
    "repeat_penalty": Range(0.0, 2.0, low_open=True, note="1 = off"),
    "max_tokens": Range(1, 32768),
    "seed": Range(0, 2**32 - 1),
}
"""Every numeric sampling value's allowed interval."""


def out_of_range(name: str, value: float) -> str | None:
    """One line saying why `value` is not allowed for `name`, or None when it is."""
    allowed = SAMPLING_RANGES[name]
    if allowed.contains(value):
        return None
    note = f" ({allowed.note})" if allowed.note else ""
    return f"{name} must be in {allowed.describe()}{note}, got {_number(value)}"
