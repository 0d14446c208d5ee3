"""How `llmbench run` drives `profiles.runner.run_comparison`, from its options: the same for
a one-prompt comparison and a prompt suite."""

from __future__ import annotations

from typing import Any

from engines.types import DEFAULT_TOP_CANDIDATES
from profiles.run_driver import DriverOptions
from profiles.schema import RunMode


def run_settings(
    options: dict[str, Any], profile_name: str, driver_options: DriverOptions
) -> dict[str, Any]:
    """The keyword arguments of `run_comparison` that the command-line options decide.

    Token probabilities are read by default (top 5, as in the workbench) so every answer
    has its log-probability, perplexity and entropy; --logprobs N asks for N candidates."""
    mode: RunMode = "parallel" if options["parallel"] else "sequential"
    return {
        "mode": mode,
        "repeat": options["repeat"],
        "warmup": options["warmup"],
        "history": not options["no_history"],
        "profile_name": profile_name,
        "driver_options": driver_options,
        "top_logprobs": options["logprobs"] or DEFAULT_TOP_CANDIDATES,
    }
