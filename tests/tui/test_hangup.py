"""The exit watchdog: llmbench ends when its terminal goes away, even if Textual is stuck."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from tui.hangup import silence_lost_terminal, terminal_gone

pytestmark = pytest.mark.skipif(not hasattr(os, "openpty"), reason="needs POSIX ttys")


def test_terminal_gone_only_for_a_hung_up_terminal():
    master, slave = os.openpty()
    read_end, write_end = os.pipe()
    try:
        assert not terminal_gone(slave)  # a live terminal
        assert not terminal_gone(write_end)  # a pipe (what pytest and CI give)
        os.close(master)  # the terminal emulator (tmux, sshd) goes away
        assert terminal_gone(slave)
    finally:
        for fd in (slave, read_end, write_end):
            os.close(fd)


def test_silencing_leaves_pipes_and_files_alone(capfd):
    silence_lost_terminal()
    print("still here")
    assert capfd.readouterr().out == "still here\n"


STUCK_APP = textwrap.dedent(
    """
    import asyncio, os, signal, sys, threading, time
    sys.path.insert(0, {root!r})
    from tui.hangup import install_exit_watchdog

    async def main():
        loop = asyncio.get_running_loop()
        install_exit_watchdog([signal.SIGHUP], grace_s=0.5, loop=loop)
        os.kill(os.getpid(), signal.SIGHUP)
        if {stuck}:
            threading.Event().wait(30)  # the UI thread blocked for good, like Textual's put()
        await asyncio.sleep(0)

    asyncio.run(main())
    time.sleep(2)  # the app ended normally; the process goes on (like a test run)
    print("carried on")
    """
)


@pytest.mark.parametrize("stuck", [True, False])
def test_the_watchdog_ends_only_a_stuck_app(stuck: bool):
    script = STUCK_APP.format(root=str(Path(__file__).resolve().parents[2]), stuck=stuck)
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=30
    )
    elapsed = time.monotonic() - started
    assert done.returncode == 0, done.stderr
    if stuck:
        assert done.stdout == "" and elapsed < 10  # ended by the watchdog, not after 30 s
    else:
        assert done.stdout == "carried on\n"  # its loop closed: the watchdog let it be
