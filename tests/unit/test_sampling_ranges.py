"""One table of sampling ranges: the profile schema and the engine accept the same values."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from engines.local.sampler_chain import check_sampling
from engines.sampling_ranges import SAMPLING_RANGES, out_of_range
from engines.types import SamplingParams
from profiles.schema import SamplingValues


def _probes(name: str) -> list[float]:
    allowed = SAMPLING_RANGES[name]
    step = 1 if isinstance(getattr(SamplingParams(), name), int) else 1e-3
    values = [
        allowed.low - step,
        allowed.low,
        allowed.low + step,
        allowed.high,
        allowed.high + step,
    ]
    return [type(getattr(SamplingParams(), name))(v) for v in values]


def _schema_accepts(name: str, value: float) -> bool:
    try:
        SamplingValues(**{name: value})
    except ValidationError:
        return False
    return True


def _engine_accepts(name: str, value: float) -> bool:
    try:
        check_sampling(SamplingParams().with_changes(**{name: value}))
    except ValueError:
        return False
    return True


@pytest.mark.parametrize("name", list(SAMPLING_RANGES))
def test_the_schema_and_the_engine_accept_exactly_the_same_values(name: str) -> None:
    for value in _probes(name):
        assert _schema_accepts(name, value) == _engine_accepts(name, value), (name, value)


def test_top_p_zero_is_refused_by_the_profile_not_on_every_generation() -> None:
    assert not _schema_accepts("top_p", 0.0)
    assert out_of_range("top_p", 0.0) == "top_p must be in (0, 1] (1 = off), got 0"
    assert _schema_accepts("top_p", 1.0) and _schema_accepts("top_p", 0.01)


def test_the_engine_defaults_are_in_range() -> None:
    check_sampling(SamplingParams())
