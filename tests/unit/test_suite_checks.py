"""Cheap checks on answers (profiles.checks): each kind passes and fails where it should."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from profiles.checks import CheckSpec, run_checks


def outcomes(text: str, tokens: int | None = 10, **spec) -> dict[str, bool]:
    checks = run_checks(CheckSpec.model_validate(spec), text, tokens)
    return {check.name: check.passed for check in checks}


def test_contains_and_not_contains_ignore_case_and_take_one_or_many() -> None:
    assert outcomes("The capital is PARIS.", contains="paris") == {'contains "paris"': True}
    assert outcomes("Sorry, I cannot.", not_contains=["sorry", "as an AI"]) == {
        'not_contains "sorry"': False,
        'not_contains "as an AI"': True,
    }


def test_regex_searches_anywhere_and_a_bad_pattern_is_refused() -> None:
    assert outcomes("so the answer is 7.", regex=r"\b7\b") == {r'regex "\b7\b"': True}
    assert outcomes("answer: 17", regex=r"\b7\b") == {r'regex "\b7\b"': False}
    with pytest.raises(ValidationError, match="not a valid regular expression"):
        CheckSpec.model_validate({"regex": "(unclosed"})


def test_equals_and_starts_with_look_at_the_stripped_answer() -> None:
    assert outcomes("  42\n", equals="42") == {'equals "42"': True}
    assert outcomes("42.", equals="42") == {'equals "42"': False}
    assert outcomes("\n Yes, it is.", starts_with="yes") == {'starts_with "yes"': True}
    assert outcomes("No.", starts_with="yes") == {'starts_with "yes"': False}


def test_json_accepts_plain_or_fenced_json_only() -> None:
    assert outcomes('{"name": "Ada", "age": 36}', json=True) == {"valid JSON": True}
    assert outcomes('Here:\n```json\n{"a": [1, 2]}\n```\nDone.', json=True) == {"valid JSON": True}
    assert outcomes('{"name": "Ada",', json=True) == {"valid JSON": False}
    assert outcomes("name: Ada", json=True) == {"valid JSON": False}


def test_max_words_and_max_tokens_count_limits_inclusive() -> None:
    assert outcomes("one two three", max_words=3) == {"max_words 3": True}
    assert outcomes("one two three four", max_words=3) == {"max_words 3": False}
    assert outcomes("x", tokens=5, max_tokens=5) == {"max_tokens 5": True}
    assert outcomes("x", tokens=6, max_tokens=5) == {"max_tokens 5": False}
    assert outcomes("x", tokens=None, max_tokens=5) == {"max_tokens 5": False}


def test_a_failed_check_says_why_and_no_spec_means_no_checks() -> None:
    [check] = run_checks(CheckSpec(max_words=2), "a b c d", 4)
    assert not check.passed and check.detail == "4 words"
    assert run_checks(None, "anything", 1) == []
    with pytest.raises(ValidationError):
        CheckSpec.model_validate({"contain": "typo"})
