"""The options that say what the workbench opens: `llmbench` itself and `llmbench serve`."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import click

Command = TypeVar("Command", bound=Callable[..., object])


def workbench_options(command: Command) -> Command:
    """Add --profile, --model (repeatable) and --no-history to `command`."""
    command = click.option(
        "--no-history", is_flag=True, help="Do not append results to the history."
    )(command)
    command = click.option(
        "--model",
        "-m",
        "models",
        multiple=True,
        metavar="REF",
        help="Compare these models (repeatable); with --profile, they replace its panes.",
    )(command)
    return click.option(
        "--profile", "-p", "profile", metavar="NAME|PATH", help="Open this profile."
    )(command)
