"""The profile schema: defaults match the engine, overrides merge, ranges are enforced."""

from __future__ import annotations

import dataclasses

import pytest
from pydantic import ValidationError

from engines.types import ModelSettings, SamplingParams
from profiles.schema import (
    CURRENT_VERSION,
    ModelSettingsSpec,
    PaneSpec,
    Profile,
    SamplingOverrides,
    SamplingValues,
)


def test_sampling_defaults_are_the_engine_defaults() -> None:
    assert SamplingValues().to_params() == SamplingParams()


def test_model_settings_defaults_are_the_engine_defaults() -> None:
    spec = ModelSettingsSpec()
    assert spec.to_settings("/m.gguf", "A") == ModelSettings(path="/m.gguf", label="A")


def test_every_engine_sampling_field_is_in_the_profile_forms() -> None:
    engine_fields = {f.name for f in dataclasses.fields(SamplingParams)}
    assert set(SamplingValues.model_fields) == engine_fields
    assert set(SamplingOverrides.model_fields) == engine_fields


def test_pane_overrides_merge_over_profile_defaults() -> None:
    defaults = SamplingValues(temperature=0.7, seed=7, stop=["\n\n"])
    pane = PaneSpec(model="demo:smollm2-135m", sampling=SamplingOverrides(temperature=0.2))
    params = pane.sampling_params(defaults)
    assert params.temperature == 0.2
    assert params.seed == 7
    assert params.stop == ("\n\n",)


def test_overrides_between_keeps_only_differences() -> None:
    defaults = SamplingValues()
    wanted = SamplingParams(temperature=1.2, stop=("END",))
    overrides = SamplingOverrides.between(defaults, wanted)
    assert overrides.model_dump(exclude_none=True) == {"temperature": 1.2, "stop": ["END"]}
    assert PaneSpec(model="x", sampling=overrides).sampling_params(defaults) == wanted


def test_sampling_values_round_trip_through_params() -> None:
    params = SamplingParams(temperature=0.1, top_k=5, stop=("a", "b"), seed=123)
    assert SamplingValues.from_params(params).to_params() == params


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("temperature", 2.5),
        ("temperature", -0.1),
        ("top_p", 1.5),
        ("top_k", -1),
        ("min_p", 2),
        ("repeat_penalty", 0),
        ("max_tokens", 0),
        ("seed", -1),
    ],
)
def test_out_of_range_sampling_values_are_rejected(field: str, value: float) -> None:
    with pytest.raises(ValidationError):
        SamplingValues(**{field: value})
    with pytest.raises(ValidationError):
        SamplingOverrides(**{field: value})


def test_profile_needs_a_pane_and_a_file_safe_name() -> None:
    with pytest.raises(ValidationError):
        Profile(name="empty", panes=[])
    with pytest.raises(ValidationError):
        Profile(name="../escape", panes=[PaneSpec(model="x")])
    with pytest.raises(ValidationError):
        Profile(name="has space", panes=[PaneSpec(model="x")])


def test_newer_version_is_rejected_with_the_versions_named() -> None:
    with pytest.raises(
        ValidationError,
        match=f"version {CURRENT_VERSION + 2}; this one reads up to {CURRENT_VERSION}",
    ):
        Profile(name="p", version=CURRENT_VERSION + 2, panes=[PaneSpec(model="x")])


def test_unknown_keys_are_rejected_at_every_level() -> None:
    with pytest.raises(ValidationError):
        Profile(name="p", panes=[{"model": "x", "sampling": {"temprature": 1.0}}])
    with pytest.raises(ValidationError):
        Profile(name="p", panes=[{"model": "x"}], colour="red")


def test_api_key_env_must_be_a_variable_name() -> None:
    assert PaneSpec(model="openai:http://h/v1#m", api_key_env="OPENAI_API_KEY").api_key_env
    with pytest.raises(ValidationError):
        PaneSpec(model="openai:http://h/v1#m", api_key_env="sk-abc 123")


def test_display_label_falls_back_to_the_model() -> None:
    assert PaneSpec(model="demo:gemma3-270m").display_label == "demo:gemma3-270m"
    assert PaneSpec(model="demo:gemma3-270m", label="Gemma").display_label == "Gemma"


def test_fields_are_documented() -> None:
    for model in (SamplingValues, SamplingOverrides, ModelSettingsSpec, PaneSpec, Profile):
        for name, info in model.model_fields.items():
            assert info.description, f"{model.__name__}.{name} has no docstring"
