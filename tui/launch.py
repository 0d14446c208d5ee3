"""Starts the workbench from the command line's options."""

from __future__ import annotations

import sys


def launch_workbench(profile: str | None, models: list[str]) -> None:
    """Open the workbench. Placeholder until the Textual app lands (issue 7)."""
    print("llmbench: the workbench is not built yet; try `llmbench --help`.", file=sys.stderr)
    sys.exit(1)
