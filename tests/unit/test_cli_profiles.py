"""`llmbench profiles` and `llmbench history` through the real click entry point."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from result_samples import make_result, stats

from profiles.history import append_result, history_path
from profiles.store import bundled_dir, profiles_dir
from tui.cli import cli

GOOD = 'name = "mine"\ndescription = "My own"\n[[panes]]\nmodel = "demo:smollm2-135m"\n'


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def write_user_profile(name: str, text: str) -> Path:
    path = profiles_dir() / f"{name}.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_profiles_lists_bundled_and_saved_with_a_broken_one(runner: CliRunner) -> None:
    write_user_profile("mine", GOOD)
    write_user_profile(
        "broken", 'name = "broken"\n[sampling]\ntemprature = 0.5\n[[panes]]\nmodel = "x"\n'
    )
    result = runner.invoke(cli, ["profiles"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split() == ["NAME", "SOURCE", "PANES", "DESCRIPTION"]
    by_name = {
        line.split()[0]: line
        for line in lines[1:]
        if line and not line.startswith(("Saved", "Open"))
    }
    assert set(by_name) == {
        "broken",
        "mine",
        "quant-ladder",
        "small-vs-large",
        "suite-small-vs-large",
        "temperature-sweep",
    }
    assert (
        "ERROR: sampling.temprature: unknown key; did you mean 'temperature'?" in by_name["broken"]
    )
    assert by_name["mine"].split()[1:4] == ["user", "1", "My"]
    assert by_name["small-vs-large"].split()[1:3] == ["bundled", "2"]
    assert str(profiles_dir()) in result.output
    assert runner.invoke(cli, ["profiles", "list"]).output == result.output


def test_profiles_show_prints_the_stored_toml(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["profiles", "show", "small-vs-large"])
    assert result.exit_code == 0
    assert result.output == (bundled_dir() / "small-vs-large.toml").read_text(encoding="utf-8")


def test_profiles_show_a_path(runner: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "x.toml"
    path.write_text(GOOD, encoding="utf-8")
    result = runner.invoke(cli, ["profiles", "show", str(path)])
    assert (result.exit_code, result.output) == (0, GOOD)


def test_profiles_show_an_invalid_profile_exits_2_with_the_problems(runner: CliRunner) -> None:
    path = write_user_profile(
        "bad", 'name = "bad"\n[sampling]\ntemperature = 5.0\ntop_k = -3\n[[panes]]\nmodel = "x"\n'
    )
    result = runner.invoke(cli, ["profiles", "show", "bad"])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        f"error: {path}: sampling.temperature: must be between 0 and 2 (got 5.0)",
        f"error: {path}: sampling.top_k: must be between 0 and 1000 (got -3)",
    ]


def test_profiles_show_an_unknown_name_exits_2(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["profiles", "show", "temperature-swep"])
    assert result.exit_code == 2
    assert "did you mean 'temperature-sweep'?" in result.stderr


def test_profiles_check(runner: CliRunner) -> None:
    write_user_profile("mine", GOOD)
    ok = runner.invoke(cli, ["profiles", "check", "mine", "quant-ladder"])
    assert ok.exit_code == 0
    assert len(ok.stdout.splitlines()) == 2 and ok.stdout.startswith("ok: ")
    write_user_profile("future", 'version = 9\nname = "future"\n[[panes]]\nmodel = "x"\n')
    bad = runner.invoke(cli, ["profiles", "check", "mine", "future"])
    assert bad.exit_code == 2
    assert "written by a newer llmbench (version 9; this one reads up to 1)" in bad.stderr


def test_history_lists_recent_runs(runner: CliRunner) -> None:
    old = make_result(label="old", when=datetime(2026, 3, 1, 9, 0, 0, tzinfo=UTC))
    new = make_result(
        label="new",
        when=datetime(2026, 3, 2, 9, 0, 0, tzinfo=UTC),
        run_stats=stats(decode_tps=None),
    )
    append_result(old)
    append_result(new)
    result = runner.invoke(cli, ["history"])
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert lines[0].split() == [
        "ID",
        "DATE",
        "PROFILE",
        "PANE",
        "MODEL",
        "TOKENS",
        "DECODE",
        "TOK/S",
        "STOP",
    ]
    assert lines[1].split()[0] == old.id and lines[2].split()[0] == new.id
    assert lines[1].split()[-4:] == ["demo:smollm2-135m", "48", "201.2", "length"]
    assert lines[2].split()[-3:] == ["48", "—", "length"]
    limited = runner.invoke(cli, ["history", "--limit", "1"])
    assert new.id in limited.output and old.id not in limited.output
    assert "1 of 2 runs shown" in limited.output


def test_history_warns_about_a_torn_line_and_lists_the_rest(runner: CliRunner) -> None:
    kept = make_result()
    append_result(kept)
    with history_path().open("ab") as handle:
        handle.write(b'{"id": "torn')
    result = runner.invoke(cli, ["history"])
    assert result.exit_code == 0
    assert kept.id in result.stdout
    assert "warning: " in result.stderr and "line 2 skipped" in result.stderr


def test_history_when_empty(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["history"])
    assert result.exit_code == 0
    assert "No results yet" in result.output


def test_history_show_prints_one_result_in_full_by_prefix(runner: CliRunner) -> None:
    result_record = make_result(text="The whole answer,\nboth lines.")
    append_result(make_result(when=datetime(2025, 1, 1, tzinfo=UTC)))
    append_result(result_record)
    shown = runner.invoke(cli, ["history", "show", result_record.id[:12]])
    assert shown.exit_code == 0, shown.output
    text = shown.output
    for expected in (
        result_record.id,
        "model_filename",
        "SmolLM2-135M-Instruct.Q4_1.gguf",
        "model_sha256",
        "ab" * 32,
        "decode_tps",
        "201.2",
        "temperature",
        "cpu_info",
        "AMD EPYC 7B13",
        "Answer:\nThe whole answer,\nboth lines.",
        "Prompt:\nThe three most important things",
    ):
        assert expected in text, expected


def test_history_show_unknown_or_ambiguous_id_exits_2(runner: CliRunner) -> None:
    append_result(make_result(when=datetime(2026, 3, 1, tzinfo=UTC)))
    append_result(make_result(when=datetime(2026, 3, 1, tzinfo=UTC)))
    missing = runner.invoke(cli, ["history", "show", "1999"])
    assert missing.exit_code == 2 and "no result with an id starting '1999'" in missing.stderr
    ambiguous = runner.invoke(cli, ["history", "show", "20260301"])
    assert ambiguous.exit_code == 2 and "matches 2 results" in ambiguous.stderr


def test_real_console_script_lists_profiles() -> None:
    """The installed `llmbench` command, as a user runs it (no TTY)."""
    command = [str(Path(sys.executable).with_name("llmbench"))]
    completed = subprocess.run([*command, "profiles"], capture_output=True, text=True, timeout=60)
    assert completed.returncode == 0, completed.stderr
    assert "small-vs-large" in completed.stdout
    bad = subprocess.run(
        [*command, "profiles", "show", "no-such"], capture_output=True, text=True, timeout=60
    )
    assert bad.returncode == 2
    assert bad.stderr.startswith("error: no profile named 'no-such'")
    assert "Traceback" not in bad.stderr


def test_profiles_and_history_commands_load_neither_textual_nor_llama_cpp() -> None:
    code = (
        "import sys\n"
        "from click.testing import CliRunner\n"
        "from tui.cli import cli\n"
        "for args in (['profiles'], ['profiles', 'show', 'quant-ladder'], ['history']):\n"
        "    result = CliRunner().invoke(cli, args)\n"
        "    assert result.exit_code == 0, result.output\n"
        "print(','.join(m for m in ('textual', 'rich', 'llama_cpp') if m in sys.modules))\n"
    )
    completed = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip() == ""


# --- delete and restore ---------------------------------------------------------------------


def test_profiles_delete_removes_a_saved_profile_and_never_a_bundled_one() -> None:
    from click.testing import CliRunner

    from profiles.schema import PaneSpec, Profile
    from profiles.store import bundled_dir, default_path, save_profile
    from tui.cli import cli

    save_profile(Profile(name="mine", panes=[PaneSpec(model="demo:smollm2-135m")]))
    runner = CliRunner()
    result = runner.invoke(cli, ["profiles", "delete", "mine"])
    assert result.exit_code == 0, result.output
    assert not default_path("mine").exists()
    for name, words in (
        ("mine", "no saved profile named 'mine'"),
        ("temperature-sweep", "bundled profiles cannot be deleted"),
        ("../etc", "not a profile name"),
    ):
        result = runner.invoke(cli, ["profiles", "delete", name])
        assert result.exit_code == 2
        (line,) = result.output.strip().splitlines()
        assert line.startswith("error: ")
        assert words in result.output
    assert (bundled_dir() / "temperature-sweep.toml").is_file()


def test_profiles_restore_removes_the_copy_that_hides_a_bundled_one() -> None:
    from click.testing import CliRunner

    from profiles.schema import PaneSpec, Profile
    from profiles.store import bundled_dir, default_path, list_profiles, save_profile
    from tui.cli import cli

    save_profile(Profile(name="temperature-sweep", panes=[PaneSpec(model="x")]))
    assert any(e.shadowed for e in list_profiles() if e.name == "temperature-sweep")
    runner = CliRunner()
    result = runner.invoke(cli, ["profiles", "restore", "temperature-sweep"])
    assert result.exit_code == 0, result.output
    assert not default_path("temperature-sweep").exists()
    assert (bundled_dir() / "temperature-sweep.toml").is_file()
    for name, words in (
        ("temperature-sweep", "you have no copy"),
        ("nope", "no bundled profile named 'nope'"),
    ):
        result = runner.invoke(cli, ["profiles", "restore", name])
        assert result.exit_code == 2
        assert len(result.output.strip().splitlines()) == 1
        assert words in result.output
