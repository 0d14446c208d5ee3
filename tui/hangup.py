"""A way out when the terminal goes away: llmbench must end, not hang, when SSH drops.

Textual writes to the terminal from a writer thread fed by a bounded queue. Once the
terminal is gone, a write fails (EIO), the writer thread dies, and the next 30 writes
fill its queue: the UI thread then blocks for good in `Queue.put` (seen with Textual
8.2.8 at shutdown, `App._shutdown` → `LinuxDriver.disable_input`, and while drawing).
The kernel's SIGCONT that comes with a hang-up also makes Textual restart application
mode on the dead terminal. So the app's own clean quit (close the model workers, let the
history writes finish, exit) can run and still never return.

`install_exit_watchdog(signals, grace_s, loop)` adds two things, that need no
event loop, to what the app already does on those signals (asyncio's
`add_signal_handler` keeps working: the loop is woken through its wakeup fd, not through
the Python-level handler this replaces):

- standard streams whose terminal is gone (a zero-byte write fails with EIO) are pointed
  at /dev/null, so later writes succeed into nothing instead of killing Textual's writer
  thread; pipes, files and live terminals are left alone;
- a daemon thread that ends the process with `os._exit(0)` if the app's event loop has
  still not closed `grace_s` seconds after the signal (stuck as above; an app that ended
  normally has closed its loop, and a process that ended took the thread with it). By
  then the clean quit has closed the workers, and every finished result is already in
  the history (each is fsynced as it is appended).
"""

from __future__ import annotations

import asyncio
import errno
import os
import signal
import threading
import time
from collections.abc import Iterable


def terminal_gone(fd: int) -> bool:
    """Whether `fd` is a terminal that has hung up (writing to it fails with EIO)."""
    try:
        os.write(fd, b"")
    except OSError as error:
        return error.errno == errno.EIO
    return False


def silence_lost_terminal() -> None:
    """Point each standard stream whose terminal is gone at /dev/null."""
    lost = [fd for fd in (0, 1, 2) if terminal_gone(fd)]
    if not lost:
        return
    null = os.open(os.devnull, os.O_RDWR)
    try:
        for fd in lost:
            os.dup2(null, fd)
    finally:
        os.close(null)


def install_exit_watchdog(
    signals: Iterable[int], grace_s: float, loop: asyncio.AbstractEventLoop
) -> None:
    """On each of `signals`: silence a lost terminal, and end the process `grace_s`
    seconds later if the app's event loop `loop` has not closed by then.

    Call it after the event loop's own handlers are installed (`loop.add_signal_handler`);
    those still run, and closing the loop resets these signals to their defaults. Only in
    the main thread, as `signal.signal` requires; elsewhere it does nothing.
    """
    started = threading.Event()

    def exit_if_still_running() -> None:
        time.sleep(grace_s)
        if not loop.is_closed():
            os._exit(0)

    def handler(signum: int, frame: object) -> None:
        silence_lost_terminal()
        if not started.is_set():
            started.set()
            threading.Thread(
                target=exit_if_still_running, name="llmbench-exit-watchdog", daemon=True
            ).start()

    for signum in signals:
        try:
            signal.signal(signum, handler)
        except ValueError:  # not the main thread (an app run from a test's thread)
            return
