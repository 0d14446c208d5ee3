"""Every sampling range is stated once (`engines.sampling_ranges`): the profile schema, the
engine's check, the `llmbench run` flags, the workbench's temperature field and its sampling
editor accept and refuse the same values."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from pydantic import ValidationError

from engines.local.sampler_chain import check_sampling
from engines.sampling_ranges import SAMPLING_RANGES
from engines.types import SamplingParams
from profiles.schema import SamplingOverrides, SamplingValues
from tui.cli import cli
from tui.screens.sampling_editor import FIELDS, parse_sampling
from tui.widgets.sampler_controls import parse_temperature

EDGES = [
    (name, value, allowed.contains(value))
    for name, allowed in SAMPLING_RANGES.items()
    for value in (allowed.low, allowed.high, allowed.low - 1, allowed.high + 1)
]
"""Each range's ends and just beyond them, with whether the table allows them."""


def schema_accepts(name: str, value: float) -> bool:
    try:
        SamplingValues(**{name: value})
        SamplingOverrides(**{name: value})
    except ValidationError:
        return False
    return True


def engine_accepts(name: str, value: float) -> bool:
    try:
        check_sampling(SamplingParams().with_changes(**{name: value}))
    except ValueError:
        return False
    return True


def editor_accepts(name: str, value: float) -> bool:
    texts = {field: str(getattr(SamplingParams(), field)) for field, _ in FIELDS}
    texts["stop"] = ""
    texts[name] = str(value)
    try:
        parse_sampling(texts)
    except ValueError:
        return False
    return True


@pytest.mark.parametrize("name, value, allowed", EDGES)
def test_schema_engine_and_editor_agree_with_the_table(
    name: str, value: float, allowed: bool
) -> None:
    assert schema_accepts(name, value) is allowed
    assert engine_accepts(name, value) is allowed
    assert editor_accepts(name, value) is allowed


def test_top_p_zero_is_refused_everywhere() -> None:
    assert not schema_accepts("top_p", 0.0)
    assert not engine_accepts("top_p", 0.0)
    assert not editor_accepts("top_p", 0.0)
    result = CliRunner().invoke(cli, ["run", "-m", "demo:smollm2-135m", "--top-p", "0"])
    assert result.exit_code == 2
    assert "top_p must be above 0, at most 1, not 0" in result.output


@pytest.mark.parametrize("flag, name", [("--temperature", "temperature"), ("--top-k", "top_k")])
def test_run_flags_refuse_what_the_table_refuses(flag: str, name: str) -> None:
    beyond = SAMPLING_RANGES[name].high + 1
    text = str(int(beyond)) if name == "top_k" else f"{beyond:g}"
    result = CliRunner().invoke(cli, ["run", "-m", "demo:smollm2-135m", flag, text])
    assert result.exit_code == 2
    assert f"{name} must be {SAMPLING_RANGES[name].describe()}" in result.output


def test_the_temperature_field_uses_the_table() -> None:
    high = SAMPLING_RANGES["temperature"].high
    assert parse_temperature(f"{high:g}") == high
    with pytest.raises(ValueError, match="temperature must be 0 to 2"):
        parse_temperature(f"{high + 0.5:g}")


def test_editor_labels_state_the_table_ranges() -> None:
    labels = dict(FIELDS)
    for name, allowed in SAMPLING_RANGES.items():
        assert allowed.describe(with_note=False) in labels[name]
