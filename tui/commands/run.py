"""`llmbench run`: a comparison to the end without the workbench, for scripts, SSH and CI.

Progress goes to standard error, the results table to standard output. Exit codes: 0 every
pane finished, 1 at least one pane failed (the others are still reported), 2 bad usage or
a bad profile. Every failure is one line, never a traceback.

This module is the command itself: its options come from `run_options`, the comparison
from `run_profile`; it then runs a prompt suite (`run_suite`) or one prompt
(`run_one_prompt`), and turns every failure into one line and an exit code.
"""

from __future__ import annotations

import sys
from typing import Any

import click

from tui.commands.run_one_prompt import run_one_prompt
from tui.commands.run_options import run_options
from tui.commands.run_usage import EXIT_PANE_FAILED, EXIT_USAGE, UsageProblem


@click.command("run", context_settings={"help_option_names": ["-h", "--help"]})
@run_options
def run(**options: Any) -> None:
    """Run a comparison headless and print (or export) the results.

    The panes come from a profile or from --model options; with both, the models replace
    the profile's panes and the profile gives the prompt and sampling. A sampling option given a
    comma list runs every pane at every value: two models with --temperature 0.2,0.7,1.2
    make six panes. Panes run one after another unless --parallel is given.

    \b
    Examples:
      llmbench run --profile small-vs-large --prompt "Why is the sky blue?" --json out.json
      llmbench run -m demo:smollm2-135m -m demo:gemma3-270m --temperature 0.2,0.7,1.2
      echo "Tell me a joke" | llmbench run -m demo:smollm2-135m --prompt - --repeat 3
      llmbench run --profile quant-ladder --fidelity --csv ladder.csv
      llmbench run -m demo:smollm2-135m --temperature 0.2,1.2 --seeds 5 --logprobs 5
    """
    try:
        code = _run(options)
    except UsageProblem as problem:
        click.echo(f"llmbench run: {problem}", err=True)
        code = EXIT_USAGE
    except KeyboardInterrupt:
        click.echo("llmbench run: interrupted", err=True)
        code = 130
    except Exception as exc:  # noqa: BLE001 - never a bare traceback
        click.echo(f"llmbench run: {type(exc).__name__}: {' '.join(str(exc).split())}", err=True)
        code = EXIT_PANE_FAILED
    sys.exit(code)


def _run(options: dict[str, Any]) -> int:
    """A suite run or a one-prompt run, as the options and the profile say."""
    from tui.commands.run_profile import profile_to_run
    from tui.commands.run_suite import run_suite, suite_to_run

    if options["seeds"] is not None:
        if options["seed"] is not None:
            raise UsageProblem("pass either --seed or --seeds, not both")
        options = {**options, "seed": list(range(1, options["seeds"] + 1))}
    profile = profile_to_run(options)
    options["fresh"] = not options["resume"]
    suite = suite_to_run(options, profile)
    if suite is not None:
        return run_suite(options, profile, suite)
    return run_one_prompt(options, profile)
