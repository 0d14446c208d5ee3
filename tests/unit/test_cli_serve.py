"""`llmbench serve`'s options, without starting a server or a browser (see
tests/e2e/test_serve_browser.py for the real thing)."""

from __future__ import annotations

import shlex

import pytest
from click.testing import CliRunner

from tui.cli import cli
from tui.commands.serve import is_loopback, workbench_command


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "localhost", "::1", "[::1]"])
def test_loopback_addresses(host: str):
    assert is_loopback(host)


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.10", "gpu-box.example"])
def test_other_addresses_are_not_loopback(host: str):
    assert not is_loopback(host)


def test_each_tab_runs_the_workbench_with_the_same_options():
    command = workbench_command("my profile", ("demo:smollm2-135m",), True, python="/py")
    assert shlex.split(command) == [
        "/py", "-m", "tui.cli", "--profile", "my profile",
        "--model", "demo:smollm2-135m", "--no-history",
    ]  # fmt: skip


def test_a_bad_profile_is_one_line_before_serving():
    result = CliRunner().invoke(cli, ["serve", "--profile", "no-such-profile"])
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("llmbench serve: ")
    assert "no-such-profile" in lines[0]


def test_a_bad_port_is_refused():
    result = CliRunner().invoke(cli, ["serve", "--port", "70000"])
    assert result.exit_code == 2
    assert "70000" in result.output
