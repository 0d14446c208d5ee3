"""The exit codes of `llmbench run` and `UsageProblem`, the one-line refusal every part of
the command raises for bad usage or a bad profile (exit code 2)."""

from __future__ import annotations

EXIT_OK = 0
EXIT_PANE_FAILED = 1
EXIT_USAGE = 2


class UsageProblem(Exception):
    """Bad usage or a bad profile: one line, exit code 2."""
