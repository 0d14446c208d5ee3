"""`llmbench run --fidelity`: the text it evaluates (read before anything runs) and the
fidelity pass after the comparison, whose table it prints and whose figures go into the
results."""

from __future__ import annotations

import sys
from typing import Any

import click

from tui.commands.run_usage import UsageProblem


def fidelity_text(options: dict[str, Any]) -> str | None:
    """The text of --fidelity (read before anything runs), or None without --fidelity."""
    if not options["fidelity"]:
        if options["fidelity_text"] is not None:
            raise UsageProblem("--text is the text of --fidelity: pass --fidelity too")
        return None
    from engines.fidelity.reference_text import read_text

    try:
        return read_text(options["fidelity_text"])
    except ValueError as error:
        raise UsageProblem(str(error)) from None


def measure_fidelity(plans, outcome, text: str, n_ctx: int) -> None:
    """Run the fidelity pass, print its table and put its figures into the results."""
    from engines.fidelity.reference_store import text_sha256
    from profiles.fidelity_run import run_fidelity
    from profiles.result_parts import FidelityRecord
    from tui.commands.fidelity_output import FidelityProgressPrinter, fidelity_table

    printer = FidelityProgressPrinter(sys.stderr, total_panes=len(plans))
    try:
        fidelity = run_fidelity(plans, text, n_ctx, on_progress=printer)
    finally:
        printer.close()
    click.echo(fidelity_table(plans, fidelity, outcome.results))
    click.echo()
    digest = text_sha256(text)
    outcome.results = [
        result.model_copy(
            update={
                "fidelity": FidelityRecord.from_figures(fidelity.figures[result.pane_index], digest)
            }
        )
        if result.pane_index in fidelity.figures
        else result
        for result in outcome.results
    ]
