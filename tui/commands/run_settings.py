"""How `llmbench run` drives `profiles.runner.run_comparison`, from its options: the same for
a one-prompt comparison and a prompt suite (the run's settings and each generation's
deadline)."""

from __future__ import annotations

from typing import Any

from engines.types import DEFAULT_TOP_CANDIDATES
from profiles.run_driver import DriverOptions
from profiles.schema import RunMode
from tui.commands.run_usage import UsageProblem


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


def driver_options_for(deadline: float | None) -> DriverOptions:
    """How each generation is driven: --deadline, else config.toml's."""
    from engines.config import ConfigError, load_config

    if deadline is not None:
        return DriverOptions(generation_deadline_s=deadline or None)
    try:
        load_config()
    except ConfigError as error:
        raise UsageProblem(str(error)) from None
    return DriverOptions.from_config()
