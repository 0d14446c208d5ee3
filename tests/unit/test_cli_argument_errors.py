"""The command line's bad input: one line naming the file or the flag typed, exit 2, never a
traceback, and nothing loaded first."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from profiles.store import profiles_dir
from tui.cli import cli

DEEP = "a = " + "[" * 500 + "]" * 500 + "\n"
LLMBENCH = str(Path(sys.executable).parent / "llmbench")


@pytest.fixture
def deep_profile() -> Path:
    path = profiles_dir() / "deep.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(DEEP, encoding="utf-8")
    return path


def one_error_line(text: str) -> str:
    lines = text.strip().splitlines()
    assert len(lines) == 1, text[:2000]
    assert "Traceback" not in text
    return lines[0]


@pytest.mark.parametrize(
    "args",
    [
        ["profiles", "show", "deep"],
        ["profiles", "check", "deep"],
        ["run", "--profile", "deep", "--prompt", "x"],
    ],
    ids=["show", "check", "run"],
)
def test_a_profile_tomllib_cannot_parse_is_one_line_and_exit_2(
    deep_profile: Path, args: list[str]
) -> None:
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2, result.output[-2000:]
    line = one_error_line(result.stderr)
    assert str(deep_profile) in line and "nested too deeply" in line


def test_profiles_lists_a_profile_tomllib_cannot_parse(deep_profile: Path) -> None:
    result = CliRunner().invoke(cli, ["profiles"])
    assert result.exit_code == 0, result.output[-2000:]
    row = next(line for line in result.stdout.splitlines() if line.startswith("deep "))
    assert "ERROR: malformed TOML: arrays or tables nested too deeply" in row


def test_the_workbench_refuses_such_a_profile_in_one_line(deep_profile: Path) -> None:
    done = subprocess.run(
        [LLMBENCH, "--profile", str(deep_profile)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2
    line = one_error_line(done.stderr)
    assert line.startswith(f"llmbench: {deep_profile}: malformed TOML")


def comparison(*args: str):
    """The comparison `llmbench run ARGS` would run (nothing loaded)."""
    from tui.commands.run import run
    from tui.commands.run_profile import profile_to_run

    context = run.make_context("run", list(args))
    return profile_to_run(context.params)


def test_model_replaces_the_profile_panes_in_run_as_in_the_workbench() -> None:
    from tui.launch import startup_profile

    profile = comparison("--profile", "temperature-sweep", "-m", "demo:gemma3-270m")
    assert [pane.model for pane in profile.panes] == ["demo:gemma3-270m"]
    assert profile.name == "temperature-sweep", "the profile still gives prompt and sampling"
    workbench = startup_profile("temperature-sweep", ["demo:gemma3-270m"])
    assert [p.model for p in workbench.panes] == [p.model for p in profile.panes]
    alone = comparison("--profile", "temperature-sweep")
    assert [pane.model for pane in alone.panes] == ["demo:smollm2-135m"] * 3


def test_a_threads_error_names_the_flag_typed() -> None:
    from tui.commands.run_usage import UsageProblem

    with pytest.raises(UsageProblem) as caught:
        comparison("-m", "demo:smollm2-135m", "--threads", "5000")
    assert str(caught.value).startswith("--threads: ")
    assert "--n-threads" not in str(caught.value)


@pytest.mark.parametrize("ref", ["hf:foo", "hf:a/b/c", "demo:nope"])
def test_a_malformed_model_reference_is_usage_exit_2(ref: str) -> None:
    result = CliRunner().invoke(cli, ["run", "-m", ref, "--prompt", "x", "--no-history"])
    assert result.exit_code == 2, result.output
    line = one_error_line(result.stderr)
    assert line.startswith("llmbench run: --model: ") and ref in line


def test_a_malformed_model_reference_in_a_profile_is_usage_exit_2(tmp_path: Path) -> None:
    path = tmp_path / "p.toml"
    path.write_text('name = "p"\n[[panes]]\nmodel = "hf:foo"\n', encoding="utf-8")
    result = CliRunner().invoke(cli, ["run", "-p", str(path), "--prompt", "x"])
    assert result.exit_code == 2, result.output
    assert "panes[0].model: malformed model reference 'hf:foo'" in one_error_line(result.stderr)


def test_the_workbench_refuses_a_malformed_model_reference() -> None:
    from tui.launch import LaunchError, startup_profile

    with pytest.raises(LaunchError, match="--model: malformed model reference 'hf:foo'"):
        startup_profile(None, ["hf:foo"])


def test_invalid_utf8_on_standard_input_is_refused_before_any_model_loads(
    tmp_path: Path,
) -> None:
    missing = tmp_path / "never-loaded.gguf"
    done = subprocess.run(
        [LLMBENCH, "run", "-m", str(missing), "--prompt", "-", "--no-history"],
        input=b"Tell me \xff\xfe a joke\n",
        capture_output=True,
        timeout=60,
    )
    assert done.returncode == 2, done.stderr.decode(errors="replace")
    line = one_error_line(done.stderr.decode())
    assert line == "llmbench run: standard input is not UTF-8 text (byte 8); pass UTF-8 text"
