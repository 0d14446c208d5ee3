"""Model workers run at a lower priority than the interface, so typing stays instant.

Every pane's worker gets the same niceness, so fairness between models is unchanged.
"""

from __future__ import annotations

import os

WORKER_NICENESS = 5
"""How much lower than this process a model worker runs (Unix niceness)."""


def lower_priority(pid: int, niceness: int = WORKER_NICENESS) -> None:
    """Make process `pid` (every thread of it, and threads it starts later) `niceness`
    lower than this process. Does nothing where the system does not allow it."""
    if not hasattr(os, "setpriority"):
        return
    target = os.getpriority(os.PRIO_PROCESS, 0) + niceness
    try:
        tasks = (
            [int(tid) for tid in os.listdir(f"/proc/{pid}/task")]
            if os.path.isdir("/proc")
            else [pid]
        )
    except OSError:
        tasks = [pid]
    for task in tasks:
        try:
            if os.getpriority(os.PRIO_PROCESS, task) < target:
                os.setpriority(os.PRIO_PROCESS, task, target)
        except OSError:
            continue
