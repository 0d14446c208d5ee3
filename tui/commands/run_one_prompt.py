"""`llmbench run` on one prompt: read the prompt, run every pane on it, print the tables
(results, token probabilities, seed spread, failures) and write the exports asked for.

Reached from `tui.commands.run` when no prompt suite is to run; the fidelity pass
(`tui.commands.run_fidelity`) follows the comparison when --fidelity is given.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from tui.commands.run_output import (
    ProgressPrinter,
    failures_text,
    probabilities_table,
    results_table,
    seed_spread_table,
)
from tui.commands.run_usage import EXIT_OK, EXIT_PANE_FAILED, UsageProblem


def run_one_prompt(options: dict[str, Any], profile) -> int:
    """Run `profile` on the prompt of the options (or the profile's); returns the exit code."""
    from profiles.plan import build_plan
    from profiles.runner import run_comparison
    from tui.commands.run_fidelity import fidelity_text, measure_fidelity
    from tui.commands.run_settings import driver_options_for, run_settings

    prompt = _prompt(options, profile.prompt)
    system_prompt = options["system_prompt"] or profile.system_prompt
    plans = build_plan(profile, parallel=options["parallel"])
    driver_options = driver_options_for(options["deadline"])
    text = fidelity_text(options)
    printer = ProgressPrinter(sys.stderr, total_panes=len(plans))
    try:
        outcome = run_comparison(
            plans,
            prompt,
            system_prompt=system_prompt,
            on_progress=printer,
            **run_settings(options, profile.name, driver_options),
        )
    finally:
        printer.close()
    if not options["logprobs"]:  # the per-token records go to the JSON only when asked for
        outcome.results = [r.model_copy(update={"logprobs": None}) for r in outcome.results]
    if text is not None:
        measure_fidelity(plans, outcome, text, options["fidelity_ctx"])
    click.echo(results_table(plans, outcome, show_text=options["show_text"]))
    if any(result.figures.mean_entropy is not None for result in outcome.results):
        click.echo(probabilities_table(plans, outcome))
    if options["seeds"] is not None:
        click.echo(seed_spread_table(outcome.results))
    if outcome.failures:
        click.echo(failures_text(outcome.failures))
    _export(outcome, options, _export_rows(plans, outcome, prompt, system_prompt, profile.name))
    return EXIT_OK if outcome.ok else EXIT_PANE_FAILED


def _prompt(options: dict[str, Any], profile_prompt: str) -> str:
    text, source = options["prompt"], options["prompt_file"]
    if text is not None and source is not None:
        raise UsageProblem("pass either --prompt or --prompt-file, not both")
    if text == "-" or source == "-":
        prompt = _read_stdin()
    elif source is not None:
        try:
            prompt = Path(source).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            reason = error.strerror if isinstance(error, OSError) and error.strerror else error
            raise UsageProblem(f"cannot read the prompt file {source}: {reason}") from None
    else:
        prompt = text if text is not None else profile_prompt
    if not prompt or not prompt.strip():
        raise UsageProblem(
            "no prompt: pass --prompt TEXT, --prompt-file FILE, or --prompt - to read standard input"
        )
    return prompt.rstrip("\n")


def _read_stdin() -> str:
    """Standard input as UTF-8 text; anything else is refused before a model loads."""
    stream = getattr(sys.stdin, "buffer", None)
    data = (
        stream.read() if stream is not None else sys.stdin.read().encode("utf-8", "surrogateescape")
    )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise UsageProblem(
            f"standard input is not UTF-8 text (byte {error.start}); pass UTF-8 text"
        ) from None


def _export_rows(plans, outcome, prompt: str, system_prompt: str | None, profile_name):
    """Every row of the table for the exports: results, and failed panes as "error" rows."""
    from profiles.failed_rows import export_rows

    return export_rows(
        plans, outcome, prompt=prompt, system_prompt=system_prompt, profile_name=profile_name
    )


def _export(outcome, options: dict[str, Any], rows) -> None:
    """Write the exports asked for (each atomically); a failed write is a usage problem."""
    from engines.machine.host import host_info
    from profiles import csv_export, json_export, markdown_export
    from profiles.llama_bench_export import to_llama_bench_json
    from tui.commands.export_files import write_exports

    documents = {
        "json_path": lambda: json_export.to_json(
            rows, mode=outcome.mode, host=host_info().to_dict()
        ),
        "markdown_path": lambda: markdown_export.to_markdown(rows, mode=outcome.mode),
        "csv_path": lambda: csv_export.to_csv(rows),
        "llama_bench_json_path": lambda: to_llama_bench_json(outcome.results),
    }
    write_exports(options, documents)
