"""Profiles on disk: bundled examples, round trips, lookup, and a clear message for bad input."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from profiles.errors import ProfileError
from profiles.schema import PaneSpec, Profile, SamplingOverrides, SamplingValues
from profiles.store import (
    PROFILES_DIR_ENV,
    bundled_dir,
    default_path,
    list_profiles,
    load_profile,
    load_profile_file,
    profile_to_toml,
    profiles_dir,
    save_profile,
)

BUNDLED = ["quant-ladder", "small-vs-large", "suite-small-vs-large", "temperature-sweep"]

GOOD = """\
version = 1
name = "mine"
prompt = "Hello"

[sampling]
temperature = 0.5

[[panes]]
model = "demo:smollm2-135m"

[[panes]]
model = "demo:gemma3-270m"
"""


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# --- Bundled profiles -------------------------------------------------------------------------


@pytest.mark.parametrize("name", BUNDLED)
def test_bundled_profile_loads_and_round_trips(name: str, tmp_path: Path) -> None:
    profile = load_profile(name)
    assert profile.name == name
    assert profile.description
    saved = save_profile(profile, tmp_path / f"{name}.toml")
    assert load_profile(saved) == profile
    assert profile_to_toml(load_profile(saved)) == profile_to_toml(profile)


@pytest.mark.parametrize("name", BUNDLED)
def test_bundled_profile_explains_itself_in_a_comment(name: str) -> None:
    text = (bundled_dir() / f"{name}.toml").read_text(encoding="utf-8")
    assert text.startswith(f"# {name}:")
    assert "What it shows" in text


def test_small_vs_large_compares_the_demo_models_at_one_temperature() -> None:
    profile = load_profile("small-vs-large")
    assert [pane.model for pane in profile.panes] == ["demo:smollm2-135m", "demo:gemma3-270m"]
    temperatures = {params.temperature for params in profile.pane_sampling_params()}
    assert len(temperatures) == 1
    assert profile.prompt


def test_temperature_sweep_is_one_model_at_three_temperatures() -> None:
    profile = load_profile("temperature-sweep")
    assert {pane.model for pane in profile.panes} == {"demo:smollm2-135m"}
    assert [p.temperature for p in profile.pane_sampling_params()] == [0.2, 0.7, 1.2]
    assert len({p.seed for p in profile.pane_sampling_params()}) == 1


def test_quant_ladder_is_one_repo_at_three_quants() -> None:
    profile = load_profile("quant-ladder")
    repos = {pane.model.rsplit(":", 1)[0] for pane in profile.panes}
    quants = [pane.model.rsplit(":", 1)[1] for pane in profile.panes]
    assert len(repos) == 1 and next(iter(repos)).startswith("hf:")
    assert quants == ["Q4_K_M", "Q5_K_M", "Q8_0"]
    assert profile.mode == "sequential"


def test_demo_panes_keep_context_and_answers_small() -> None:
    for name in ("small-vs-large", "temperature-sweep"):
        profile = load_profile(name)
        for pane, params in zip(profile.panes, profile.pane_sampling_params(), strict=True):
            assert pane.settings.n_ctx <= 2048
            assert params.max_tokens <= 256


# --- Lookup and listing -----------------------------------------------------------------------


def test_profiles_dir_follows_the_config_dir_and_its_own_override(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(PROFILES_DIR_ENV, raising=False)
    monkeypatch.setenv("LLMBENCH_CONFIG_DIR", str(tmp_path / "cfg"))
    assert profiles_dir() == tmp_path / "cfg" / "profiles"
    monkeypatch.setenv(PROFILES_DIR_ENV, str(tmp_path / "elsewhere"))
    assert profiles_dir() == tmp_path / "elsewhere"


def test_saving_a_bundled_name_writes_a_user_copy_that_shadows_it() -> None:
    bundled_file = bundled_dir() / "small-vs-large.toml"
    before = digest(bundled_file)
    profile = load_profile("small-vs-large")
    changed = profile.model_copy(update={"prompt": "Something else"})
    saved = save_profile(changed)
    assert saved == default_path("small-vs-large")
    assert saved.parent == profiles_dir()
    assert digest(bundled_file) == before
    assert load_profile("small-vs-large").prompt == "Something else"
    entries = [e for e in list_profiles() if e.name == "small-vs-large"]
    assert [(e.source, e.shadowed) for e in entries] == [("bundled", True), ("user", False)]


def test_saving_into_the_bundled_folder_is_refused() -> None:
    profile = load_profile("small-vs-large")
    with pytest.raises(ProfileError, match="read-only"):
        save_profile(profile, bundled_dir() / "new.toml")
    assert not (bundled_dir() / "new.toml").exists()


def test_list_shows_bundled_and_user_and_a_broken_user_profile_with_its_error() -> None:
    write(profiles_dir() / "mine.toml", GOOD)
    write(profiles_dir() / "broken.toml", 'name = "broken"\npanes = [\n')
    entries = {(e.name, e.source): e for e in list_profiles()}
    assert {name for name, _ in entries} == set(BUNDLED) | {"mine", "broken"}
    assert entries[("mine", "user")].error is None
    broken = entries[("broken", "user")]
    assert broken.error and "malformed TOML" in broken.error
    assert entries[("small-vs-large", "bundled")].description


def test_unknown_name_suggests_the_nearest() -> None:
    with pytest.raises(
        ProfileError, match="no profile named 'small-vs-larg'; did you mean 'small-vs-large'"
    ):
        load_profile("small-vs-larg")


def test_a_path_is_loaded_directly(tmp_path: Path) -> None:
    path = write(tmp_path / "somewhere" / "x.toml", GOOD)
    assert load_profile(path).name == "mine"
    assert load_profile(str(path)).name == "mine"
    with pytest.raises(ProfileError, match="no such profile file"):
        load_profile(tmp_path / "missing.toml")


# --- Round trips --------------------------------------------------------------------------------


def test_a_full_profile_round_trips_and_omits_unset_keys(tmp_path: Path) -> None:
    profile = Profile(
        name="full",
        description="All the parts",
        prompt="Line one\nLine two",
        system_prompt="Be brief.",
        mode="sequential",
        sampling=SamplingValues(temperature=0.3, stop=["\n\n", "END"], seed=9),
        panes=[
            PaneSpec(model="demo:smollm2-135m", label="small", sampling=SamplingOverrides(top_k=5)),
            PaneSpec(model="openai:http://127.0.0.1:8080/v1#m", api_key_env="MY_KEY"),
        ],
    )
    path = save_profile(profile, tmp_path / "full.toml")
    assert load_profile_file(path) == profile
    text = path.read_text(encoding="utf-8")
    assert "label" in text and text.count("label") == 1
    assert "n_threads" not in text
    assert "None" not in text and "null" not in text
    assert '"""' in text  # the multi-line prompt stays readable


# --- Bad input: one actionable line naming the file and the key ----------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('name = "x"\npanes = [\n', "malformed TOML: "),
        ('name = "x"\n[sampling]\ntemperature = \n', "(at line 3, column 15)"),
        (
            'name = "x"\n[[panes]]\nmodel = "a"\n[[panes]]\nmodel = "b"\n[panes.sampling]\ntemprature = 0.5\n',
            "panes[1].sampling.temprature: unknown key; did you mean 'temperature'?",
        ),
        (
            'name = "x"\ncolour = "red"\n[[panes]]\nmodel = "a"\n',
            "colour: unknown key; known keys here:",
        ),
        (
            'name = "x"\n[sampling]\ntemperature = 3.5\n[[panes]]\nmodel = "a"\n',
            "sampling.temperature: must be between 0 and 2 (got 3.5)",
        ),
        (
            'name = "x"\n[sampling]\nrepeat_penalty = 0\n[[panes]]\nmodel = "a"\n',
            "sampling.repeat_penalty: must be above 0 and at most 2 (got 0)",
        ),
        (
            'name = "x"\n[[panes]]\nmodel = "a"\n[panes.settings]\nn_ctx = "big"\n',
            "panes[0].settings.n_ctx: expected a whole number, got a string ('big')",
        ),
        (
            'name = "x"\n[sampling]\ntemperature = "hot"\n[[panes]]\nmodel = "a"\n',
            "sampling.temperature: expected a number, got a string ('hot')",
        ),
        (
            'name = "x"\n[sampling]\nmax_tokens = 1.5\n[[panes]]\nmodel = "a"\n',
            "sampling.max_tokens: expected a whole number, got a decimal number (1.5)",
        ),
        (
            'name = "x"\nmode = "fast"\n[[panes]]\nmodel = "a"\n',
            "mode: must be one of 'parallel' or 'sequential' (got 'fast')",
        ),
        ('name = "x"\npanes = []\n', "panes: needs 1 to 16 entries (got 0)"),
        ('[[panes]]\nmodel = "a"\n', "name: missing (this key is required)"),
        (
            'version = 3\nname = "x"\nfuture_key = 1\n[[panes]]\nmodel = "a"\n',
            "version: written by a newer llmbench (version 3; this one reads up to 1)",
        ),
        (
            'name = "x"\n[panes]\nmodel = "a"\n',
            "panes: expected a list of tables, got one table; write [[panes]] for each entry",
        ),
        (
            'name = "x"\n[[panes]]\nmodel = "a"\n[panes.settings]\nn_threads = 0\n',
            "panes[0].settings.n_threads: must be between 1 and 1024 (got 0)",
        ),
        (
            'name = "x"\n[sampling]\nstop = [1]\n[[panes]]\nmodel = "a"\n',
            "sampling.stop[0]: expected a string, got a whole number (1)",
        ),
        (
            'name = "x"\n[[panes]]\nmodel = ""\n',
            "panes[0].model: invalid value ''; a model reference: a .gguf path, hf:OWNER/REPO:QUANT",
        ),
        (
            'name = "has space"\n[[panes]]\nmodel = "a"\n',
            "name: invalid value 'has space'; short name, also the file name when saved",
        ),
    ],
)
def test_bad_profile_gets_a_clear_message_and_the_file_is_untouched(
    text: str, expected: str, tmp_path: Path
) -> None:
    path = write(tmp_path / "profiles" / "bad.toml", text)
    before = (digest(path), path.stat().st_mtime_ns)
    with pytest.raises(ProfileError) as caught:
        load_profile(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: ")
    assert expected in message
    assert "\n" not in message
    assert "Traceback" not in message and "pydantic" not in message
    assert (digest(path), path.stat().st_mtime_ns) == before
    assert [p.name for p in path.parent.iterdir()] == ["bad.toml"]


def test_several_problems_are_counted_and_all_listed(tmp_path: Path) -> None:
    path = write(
        tmp_path / "bad.toml",
        'name = "x"\n[sampling]\ntemperature = 9.0\ntop_p = 7.0\n[[panes]]\nmodel = "a"\n',
    )
    with pytest.raises(ProfileError) as caught:
        load_profile(path)
    assert str(caught.value).endswith("(and 1 more problem)")
    lines = caught.value.all_lines()
    assert lines == [
        f"{path}: sampling.temperature: must be between 0 and 2 (got 9.0)",
        f"{path}: sampling.top_p: must be above 0 and at most 1 (got 7.0)",
    ]


def test_non_utf8_file_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "latin.toml"
    path.write_bytes('name = "caf\xe9"\n'.encode("latin-1"))
    with pytest.raises(ProfileError, match="not UTF-8"):
        load_profile(path)


def test_the_readme_example_profile_is_valid(tmp_path: Path) -> None:
    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Profiles and results", 1)[1]
    example = section.split("```toml\n", 1)[1].split("```", 1)[0]
    profile = load_profile(write(tmp_path / "example.toml", example))
    assert profile.name == "my-comparison"
    assert [pane.model for pane in profile.panes][0] == "demo:smollm2-135m"


def test_a_profile_that_would_not_load_is_never_saved() -> None:
    profile = load_profile("small-vs-large").model_copy(update={"name": "../../outside"})
    with pytest.raises(ProfileError, match="name: invalid value '../../outside'"):
        save_profile(profile)
    assert not profiles_dir().exists()
    bad_pane = load_profile("small-vs-large")
    with pytest.raises(ValueError):  # assignment is validated too
        bad_pane.panes[0].sampling.temperature = 9.0


def test_an_api_key_put_where_its_variable_name_belongs_is_never_echoed(tmp_path: Path) -> None:
    secret = "sk-live-0123456789abcdef"
    path = write(
        tmp_path / "p.toml",
        f'name = "x"\n[[panes]]\nmodel = "openai:http://h/v1#m"\napi_key_env = "{secret}"\n',
    )
    with pytest.raises(ProfileError) as caught:
        load_profile(path)
    assert "panes[0].api_key_env: must be the NAME of an environment variable" in str(caught.value)
    assert secret not in str(caught.value)
