"""This process's resident memory, as a model worker reports it (docs/metrics.md: peak RSS)."""

from __future__ import annotations

import os
import resource
import sys

from engines.units import KIB, MIB

_PAGE_SIZE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def resident_mib_now() -> float | None:
    """This process's resident memory now, in MiB (cheap: one read of /proc/self/statm)."""
    try:
        with open("/proc/self/statm", "rb") as statm:
            return int(statm.read().split()[1]) * _PAGE_SIZE / MIB
    except (OSError, ValueError, IndexError):
        return None


def peak_resident_mib() -> float:
    """This process's largest resident memory so far, in MiB."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    scale = 1 if sys.platform == "darwin" else KIB  # ru_maxrss: bytes on macOS, KiB on Linux
    return peak * scale / MIB
