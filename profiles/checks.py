"""Cheap checks on an answer: tests that need no model, run on every suite answer.

A suite prompt's `expect` table names checks (`CheckSpec`); `run_checks(specs, text,
generated_tokens)` gives one `CheckOutcome` per check, recorded with the result:

- `contains` / `not_contains`: a piece of text that must (not) appear (case-insensitive);
- `regex`: a Python regular expression that must match somewhere (`re.search`);
- `equals`: the answer, stripped of surrounding whitespace, equals this exactly;
- `starts_with`: the stripped answer starts with this (case-insensitive);
- `json`: the answer (or a fenced ```json block in it) is valid JSON;
- `max_words` / `max_tokens`: at most this many words / generated tokens.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

CHECK_KINDS = (
    "contains",
    "not_contains",
    "regex",
    "equals",
    "starts_with",
    "json",
    "max_words",
    "max_tokens",
)
"""Every check kind, in the order results list them."""

_FENCED_JSON = re.compile(r"```(?:json)?\s*\n(.*?)```", re.DOTALL | re.IGNORECASE)


class CheckSpec(BaseModel):
    """A prompt's checks: each key set is one check (lists give one check per item)."""

    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)

    contains: list[Annotated[str, Field(min_length=1)]] = Field(default_factory=list)
    """Text the answer must contain (case-insensitive); one check per item."""
    not_contains: list[Annotated[str, Field(min_length=1)]] = Field(default_factory=list)
    """Text the answer must not contain (case-insensitive); one check per item."""
    regex: list[Annotated[str, Field(min_length=1)]] = Field(default_factory=list)
    """Regular expressions that must match somewhere in the answer; one check per item."""
    equals: str | None = None
    """The whole answer, stripped of surrounding whitespace, must equal this."""
    starts_with: str | None = None
    """The stripped answer must start with this (case-insensitive)."""
    json_valid: bool = Field(default=False, alias="json")
    """`true`: the answer (or a fenced ```json block in it) must be valid JSON."""
    max_words: Annotated[int, Field(ge=1)] | None = None
    """The answer has at most this many words."""
    max_tokens: Annotated[int, Field(ge=1)] | None = None
    """The answer has at most this many generated tokens."""

    @field_validator("contains", "not_contains", "regex", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @field_validator("regex")
    @classmethod
    def _compiles(cls, patterns: list[str]) -> list[str]:
        for pattern in patterns:
            try:
                re.compile(pattern)
            except re.error as error:
                raise ValueError(
                    f"{pattern!r} is not a valid regular expression: {error}"
                ) from None
        return patterns

    @property
    def empty(self) -> bool:
        """Whether no check is set."""
        return not self.count

    @property
    def count(self) -> int:
        """How many checks this spec makes."""
        return len(self.checks())

    def checks(self) -> list[tuple[str, Any]]:
        """(kind, argument) for each check, in `CHECK_KINDS` order."""
        found: list[tuple[str, Any]] = []
        found += [("contains", text) for text in self.contains]
        found += [("not_contains", text) for text in self.not_contains]
        found += [("regex", pattern) for pattern in self.regex]
        if self.equals is not None:
            found.append(("equals", self.equals))
        if self.starts_with is not None:
            found.append(("starts_with", self.starts_with))
        if self.json_valid:
            found.append(("json", True))
        if self.max_words is not None:
            found.append(("max_words", self.max_words))
        if self.max_tokens is not None:
            found.append(("max_tokens", self.max_tokens))
        return found


class CheckOutcome(BaseModel):
    """One check on one answer: what it tested and whether the answer passed."""

    model_config = ConfigDict(extra="ignore")

    kind: str
    argument: Any = None
    passed: bool
    detail: str = ""
    """Why it failed, in a few words ("" when it passed)."""

    @property
    def name(self) -> str:
        """The check as a person reads it, e.g. `contains "Paris"`."""
        if self.kind == "json":
            return "valid JSON"
        if isinstance(self.argument, str):
            return f'{self.kind} "{self.argument}"'
        return f"{self.kind} {self.argument}"


def run_checks(
    spec: CheckSpec | None, text: str, generated_tokens: int | None
) -> list[CheckOutcome]:
    """Every check of `spec` on the answer `text` (`generated_tokens`: None when unknown)."""
    if spec is None:
        return []
    return [_check(kind, argument, text, generated_tokens) for kind, argument in spec.checks()]


def _check(kind: str, argument: Any, text: str, generated_tokens: int | None) -> CheckOutcome:
    passed, detail = _CHECKERS[kind](argument, text, generated_tokens)
    return CheckOutcome(
        kind=kind, argument=argument, passed=passed, detail="" if passed else detail
    )


def _contains(needle: str, text: str, _tokens: int | None) -> tuple[bool, str]:
    return needle.casefold() in text.casefold(), "not found"


def _not_contains(needle: str, text: str, _tokens: int | None) -> tuple[bool, str]:
    return needle.casefold() not in text.casefold(), "found"


def _regex(pattern: str, text: str, _tokens: int | None) -> tuple[bool, str]:
    return re.search(pattern, text) is not None, "no match"


def _equals(expected: str, text: str, _tokens: int | None) -> tuple[bool, str]:
    return text.strip() == expected, "differs"


def _starts_with(prefix: str, text: str, _tokens: int | None) -> tuple[bool, str]:
    return text.strip().casefold().startswith(prefix.casefold()), "starts otherwise"


def _json(_flag: bool, text: str, _tokens: int | None) -> tuple[bool, str]:
    fenced = _FENCED_JSON.search(text)
    candidate = fenced.group(1) if fenced else text
    try:
        json.loads(candidate.strip())
    except ValueError as error:
        return False, f"not JSON ({error.args[0].split(':')[0] if error.args else 'invalid'})"
    return True, ""


def _max_words(limit: int, text: str, _tokens: int | None) -> tuple[bool, str]:
    words = len(text.split())
    return words <= limit, f"{words} words"


def _max_tokens(limit: int, _text: str, tokens: int | None) -> tuple[bool, str]:
    if tokens is None:
        return False, "token count unknown"
    return tokens <= limit, f"{tokens} tokens"


_CHECKERS: dict[str, Callable[[Any, str, int | None], tuple[bool, str]]] = {
    "contains": _contains,
    "not_contains": _not_contains,
    "regex": _regex,
    "equals": _equals,
    "starts_with": _starts_with,
    "json": _json,
    "max_words": _max_words,
    "max_tokens": _max_tokens,
}
