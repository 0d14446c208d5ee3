"""The allowed range of every sampling value, stated once.

The profile schema (`profiles.schema`), the workbench's temperature field and sampling
editor, the `llmbench run` flags and the engine (`engines.local.sampler_chain`) all check
values against `SAMPLING_RANGES`, so they cannot disagree (they once did on `top_p = 0`,
which the schema took and the engine refused on every generation).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SamplingRange:
    """The values one sampling field may take: from `low` to `high`, both included unless
    `low_open` (then the value must be above `low`)."""

    name: str
    """The `SamplingParams` field."""
    low: float
    high: float
    low_open: bool = False
    """True when `low` itself is not allowed (top-p 0 keeps no token)."""
    note: str = ""
    """What a special value means, for people (e.g. "0: off")."""

    def contains(self, value: float) -> bool:
        """Whether `value` is allowed."""
        above_low = value > self.low if self.low_open else value >= self.low
        return above_low and value <= self.high

    def describe(self, *, with_note: bool = True) -> str:
        """The range in words: "0 to 2 (0: greedy)", "above 0, at most 1"."""
        low, high = _number(self.low), _number(self.high)
        text = f"above {low}, at most {high}" if self.low_open else f"{low} to {high}"
        return f"{text} ({self.note})" if self.note and with_note else text

    def problem(self, value: float) -> str | None:
        """Why `value` is refused (one line naming the field), or None when it is allowed."""
        if self.contains(value):
            return None
        return f"{self.name} must be {self.describe()}, not {_number(value)}"


def _number(value: float) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


SAMPLING_RANGES: dict[str, SamplingRange] = {
    r.name: r
    for r in (
        SamplingRange("temperature", 0.0, 2.0, note="0: greedy"),
        SamplingRange("top_p", 0.0, 1.0, low_open=True),
        SamplingRange("top_k", 0, 1000, note="0: off"),
        SamplingRange("min_p", 0.0, 1.0),
        SamplingRange("repeat_penalty", 0.0, 2.0, low_open=True, note="1: none"),
        SamplingRange("max_tokens", 1, 32768),
        SamplingRange("seed", 0, 2**32 - 1),
    )
}
"""Every numeric sampling value's range, by `SamplingParams` field name."""


def sampling_problems(values: object) -> list[str]:
    """One line per value of `values` (a `SamplingParams` or alike) that is out of range."""
    problems = []
    for name, allowed in SAMPLING_RANGES.items():
        problem = allowed.problem(getattr(values, name))
        if problem:
            problems.append(problem)
    return problems
