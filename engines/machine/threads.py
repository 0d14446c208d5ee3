"""How many CPU threads each model gets.

llama.cpp's CPU threads spin-wait between operations, so two models that each take every
core fight for them and both crawl: on a 2-core machine, two models with 2 threads each
keep only 26 % and 43 % of their solo speed, while with 1 thread each they keep 80 % and
93 %. So models that run at the same time share the cores; a model that runs alone gets
them all. A thread count the user asked for is always kept.
"""

from __future__ import annotations

import os

import psutil


def available_cores() -> int:
    """Physical cores this process may use (at least 1).

    Physical, not logical: hyper-threads add little to llama.cpp's matrix work and make
    spin-waiting threads collide. Where the process is limited to fewer CPUs (affinity,
    containers), that smaller number wins.
    """
    physical = psutil.cpu_count(logical=False) or os.cpu_count() or 1
    try:
        allowed = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        allowed = physical
    return max(1, min(physical, allowed))


def default_threads(n_parallel: int, cores: int | None = None) -> int:
    """Threads for one of `n_parallel` models running at the same time: an equal share of the cores.

    `cores` defaults to `available_cores()`. Always at least 1.
    """
    total = available_cores() if cores is None else cores
    return max(1, max(1, total) // max(1, n_parallel))


def allocate_threads(
    n_panes: int,
    requested: list[int | None],
    parallel: bool,
    cores: int | None = None,
) -> list[int]:
    """Threads for each of `n_panes` models; `requested[i]` (when not None) is kept as asked.

    Sequential (`parallel` False): every pane without a request gets all the cores, since
    it runs alone. Parallel: the cores left after the explicit requests are shared
    equally among the panes without one (each at least 1).
    """
    if len(requested) != n_panes:
        raise ValueError(f"{len(requested)} thread requests for {n_panes} panes")
    total = available_cores() if cores is None else max(1, cores)
    automatic = [index for index, wanted in enumerate(requested) if wanted is None]
    if not parallel:
        share = total
    else:
        taken = sum(wanted for wanted in requested if wanted is not None)
        share = default_threads(len(automatic), max(1, total - taken)) if automatic else total
    return [share if wanted is None else max(1, wanted) for wanted in requested]
