"""The real `llmbench` in a real terminal: tmux drives it like a person over SSH would.

The test starts the installed console script in a detached tmux session (120×40) on a
small profile with both demo models, replaces the prompt, runs it with ctrl+r, waits
until both panes say "done", reads the screen with `capture-pane -p`, and quits with
ctrl+q. Then it checks that what the screen showed is what the models answered: each
answer's first words, as the history file recorded them, are on the captured screen,
next to the comparison table. A private tmux socket keeps it apart from any other tmux
server, and the session gets the test's isolated directories explicitly.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import psutil
import pytest

from profiles.history import read_history

pytestmark = pytest.mark.real_model

TMUX = shutil.which("tmux")
LLMBENCH = Path(sys.executable).with_name("llmbench")
ISOLATED_ENV = (
    "LLMBENCH_CONFIG_DIR", "LLMBENCH_DATA_DIR", "LLMBENCH_CACHE_DIR", "XDG_CONFIG_HOME",
    "XDG_DATA_HOME", "XDG_CACHE_HOME", "HF_HOME", "HF_HUB_OFFLINE", "HOME",
)  # fmt: skip
"""The variables the autouse fixture points at temporary places; the session gets them too."""
LOAD_TIMEOUT_S = 120
"""Generous: the models load in worker processes on a machine other jobs may be using."""
RUN_TIMEOUT_S = 180
QUIT_TIMEOUT_S = 60
HANGUP_TIMEOUT_S = 30

PROFILE = """\
version = 1
name = "e2e"
description = "Both demo models, short greedy answers, for the tmux test."
prompt = "Say hello"
mode = "parallel"

[sampling]
temperature = 0.0
max_tokens = 24
seed = 42

[[panes]]
model = "demo:smollm2-135m"
label = "small"

[panes.settings]
n_ctx = 512

[[panes]]
model = "demo:gemma3-270m"
label = "base"

[panes.settings]
n_ctx = 512
"""
PROMPT = "Name three colours."
TMUX_CONFIG = """\
set -g default-size 120x40
"""
"""A detached tmux falls back to its default size (80x24) when it recalculates window sizes
with no client attached; make that default 120x40."""


def prompt_is(screen: str, text: str) -> bool:
    """Whether the prompt editor (the first line under the title) holds exactly `text`."""
    lines = screen.splitlines()
    return len(lines) > 1 and lines[1].strip() == text


def terminal_env() -> dict[str, str]:
    """This process's environment without COLUMNS and LINES.

    Under pytest they can be set (80 and 24); a program in the tmux pane would inherit them,
    and Python's shutil.get_terminal_size (so Textual) believes them over the real pane size.
    """
    return {key: value for key, value in os.environ.items() if key not in ("COLUMNS", "LINES")}


class Tmux:
    """One private tmux server (its own socket) running one session."""

    def __init__(self, socket: str, config: Path) -> None:
        self.socket = socket
        self.config = config
        config.write_text(TMUX_CONFIG)

    def __call__(self, *args: str) -> str:
        done = subprocess.run(
            [TMUX, "-L", self.socket, "-f", str(self.config), *args],
            capture_output=True, text=True, timeout=30, env=terminal_env(),
        )  # fmt: skip
        if done.returncode != 0:
            raise AssertionError(f"tmux {' '.join(args)} failed: {done.stderr.strip()}")
        return done.stdout

    def replace_prompt(self, text: str, attempts: int = 3) -> None:
        """Select the whole prompt (F7) and type `text` over it; retry if a key was lost."""
        for _ in range(attempts):
            self("send-keys", "-t", "e2e", "F7")
            time.sleep(0.3)
            self("send-keys", "-t", "e2e", "-l", text)
            try:
                self.wait_for(lambda s: prompt_is(s, text), 5, "the typed prompt")
                return
            except AssertionError:
                # seen once in ~10 runs on a loaded machine: F7 or the text came out of order
                first_line = self.screen().splitlines()[1].strip()
                warnings.warn(
                    f"prompt not replaced ({first_line!r}); typing it again", stacklevel=1
                )
                continue
        self.wait_for(lambda s: prompt_is(s, text), 1, "the typed prompt")

    def screen(self) -> str:
        return self("capture-pane", "-p", "-t", "e2e")

    def wait_for(self, condition, timeout_s: float, what: str) -> str:
        """Poll the screen until `condition(screen)` holds; fail with the last screen if not."""
        deadline = time.monotonic() + timeout_s
        screen = ""
        while time.monotonic() < deadline:
            screen = self.screen()
            if condition(screen):
                return screen
            time.sleep(0.5)
        size = self("list-windows", "-t", "e2e", "-F", "#{window_width}x#{window_height}").strip()
        raise AssertionError(
            f"timed out after {timeout_s:.0f}s waiting for {what} (window {size}):\n{screen}"
        )


def running_llmbench() -> str:
    """The llmbench processes still running and their children (to explain a hang)."""
    lines = []
    for process in psutil.process_iter(["pid", "cmdline", "status"]):
        cmdline = " ".join(process.info["cmdline"] or [])
        if "llmbench" in cmdline or "engines.local.worker" in cmdline:
            lines.append(f"{process.info['pid']} {process.info['status']} {cmdline}")
    return "\n".join(lines) or "(none found)"


def end_leftovers(marker: str) -> None:
    """End this test's llmbench (and its workers) if it outlived its terminal (a hang at exit).

    Only processes whose command line names this test's own profile file are touched.
    """
    mine = [
        process
        for process in psutil.process_iter(["cmdline"])
        if marker in " ".join(process.info["cmdline"] or [])
    ]
    for process in mine:
        try:
            for child in process.children(recursive=True):
                child.kill()
            process.kill()
        except psutil.NoSuchProcess:
            continue
    psutil.wait_procs(mine, timeout=5)


def first_words(answer: str, limit: int = 24) -> str:
    """The start of the answer's first non-empty line, cut at a word boundary (so it cannot
    wrap on a 56-column pane and must appear as is on one screen line)."""
    line = next((line.strip() for line in answer.splitlines() if line.strip()), "")
    if len(line) <= limit:
        return line
    cut = line[:limit]
    return cut[: cut.rfind(" ")] if " " in cut else cut


@dataclass
class Session:
    """llmbench running in a private tmux session on the e2e profile."""

    tmux: Tmux
    profile: Path
    exit_file: Path
    """Written by the shell with llmbench's exit status once it ends."""

    def run_prompt(self) -> str:
        """Wait for both models, type PROMPT over the prompt, run it; the screen when both are done."""
        self.tmux.wait_for(lambda s: "llmbench · e2e" in s, 30, "the workbench to open")
        self.tmux.wait_for(lambda s: s.count("● ready") == 2, LOAD_TIMEOUT_S, "both models to load")
        self.tmux.replace_prompt(PROMPT)
        self.tmux("send-keys", "-t", "e2e", "C-r")
        self.tmux.wait_for(lambda s: s.count("● done") == 2, RUN_TIMEOUT_S, "both answers")
        return self.tmux.wait_for(lambda s: "decode/s" in s, 10, "the comparison table")

    def llmbench_processes(self) -> list[psutil.Process]:
        """This session's llmbench and its model workers, while they run (not the shell: its
        command line holds the profile's path inside one argument, llmbench's as its own)."""
        found = []
        for process in psutil.process_iter(["cmdline"]):
            if str(self.profile) in (process.info["cmdline"] or []):
                try:
                    found += [process, *process.children(recursive=True)]
                except psutil.NoSuchProcess:
                    continue
        return found


@pytest.fixture
def session(tmp_path: Path, request: pytest.FixtureRequest):
    """Start llmbench in tmux (120x40) with the test's isolated directories; end it after.

    Parametrized indirectly with "shell" (default: a shell runs llmbench and records its exit
    status, as in an interactive SSH login) or "exec" (llmbench is the terminal's session
    leader itself, as with `ssh -t host llmbench` or `tmux new-session llmbench`).
    """
    how = getattr(request, "param", "shell")
    if TMUX is None:
        pytest.skip("tmux is not installed")
    if not LLMBENCH.exists():
        pytest.skip("the llmbench console script is not installed")
    profile = tmp_path / "e2e.toml"
    profile.write_text(PROFILE)
    tmux = Tmux(f"llmbench-e2e-{os.getpid()}", tmp_path / "tmux.conf")
    env_options = [f"-e{name}={os.environ[name]}" for name in ISOLATED_ENV if name in os.environ]
    exit_file = tmp_path / "exit-status"
    command = f"{LLMBENCH} --profile {profile}"
    command = f"exec {command}" if how == "exec" else f"{command}; echo $? > {exit_file}"
    tmux("new-session", "-d", "-s", "e2e", "-x", "120", "-y", "40", "-c", str(tmp_path),
         *env_options, command)  # fmt: skip
    try:
        yield Session(tmux, profile, exit_file)
    finally:
        subprocess.run([TMUX, "-L", tmux.socket, "kill-server"], capture_output=True)
        end_leftovers(str(profile))


def assert_answers_recorded(screen: str | None) -> None:
    """Both panes' results are in the history; with a screen, their answers were on it."""
    results, warnings = read_history()
    assert warnings == []
    answers = {result.pane_label: result for result in results}
    assert set(answers) == {"small", "base"}
    for label, result in answers.items():
        assert result.prompt == PROMPT
        assert result.text.strip(), f"{label} answered nothing"
        if screen is not None:
            words = first_words(result.text)
            assert words in screen, f"{label}'s answer {words!r} is not on the screen:\n{screen}"


@pytest.mark.timeout(LOAD_TIMEOUT_S + RUN_TIMEOUT_S + 120)
def test_llmbench_runs_both_demo_models_in_a_real_terminal(session: Session) -> None:
    screen = session.run_prompt()
    assert screen.count("● done (length)") == 2  # 24 greedy tokens each: both hit max_tokens
    # the panes ran in parallel: the comparison says their speeds are not comparable
    assert "Ran in parallel: speeds not comparable" in session.tmux.screen()

    session.tmux("send-keys", "-t", "e2e", "C-q")
    deadline = time.monotonic() + QUIT_TIMEOUT_S
    while not session.exit_file.exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert session.exit_file.exists(), (
        f"llmbench still running {QUIT_TIMEOUT_S}s after ctrl+q:\n{running_llmbench()}"
    )
    status = session.exit_file.read_text().strip()
    assert status == "0", f"llmbench exited with status {status}:\n{session.tmux.screen()}"
    assert_answers_recorded(screen)


@pytest.mark.timeout(LOAD_TIMEOUT_S + RUN_TIMEOUT_S + 120)
@pytest.mark.parametrize("session", ["shell", "exec"], indirect=True)
def test_a_dropped_terminal_ends_llmbench_and_keeps_the_results(session: Session) -> None:
    """Like an SSH session that drops: the terminal goes away (SIGHUP) with no quit key.

    Under a shell (an interactive SSH login) and as the terminal's session leader itself
    (`ssh -t host llmbench`), where Textual used to hang for good (see tui/hangup.py).
    """
    session.run_prompt()
    processes = session.llmbench_processes()
    assert len(processes) >= 3  # llmbench and its two model workers
    session.tmux("kill-server")
    gone, alive = psutil.wait_procs(processes, timeout=HANGUP_TIMEOUT_S)
    assert not alive, (
        f"{len(alive)} of llmbench's processes still run {HANGUP_TIMEOUT_S}s after the "
        f"terminal went away:\n{running_llmbench()}"
    )
    assert_answers_recorded(screen=None)
