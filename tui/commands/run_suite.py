"""`llmbench run` on a prompt suite: every prompt on every pane, resumable.

Reached from `tui.commands.run` when `--prompts FILE` is given, or when the profile holds
a suite (`[[prompts]]` or `prompts_file`) and no single prompt was asked for. The suite is
read (and refused with one line naming the file and line) before any model loads; then
`run_suite` runs it, prints its tables and writes the exports asked for.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from tui.commands.run_output import failures_text
from tui.commands.run_settings import driver_options_for, run_settings
from tui.commands.run_usage import EXIT_OK, EXIT_PANE_FAILED, UsageProblem

if TYPE_CHECKING:
    from collections.abc import Mapping

    from profiles.schema import Profile
    from profiles.standings import Standing
    from profiles.suite import Suite


def profile_dir(profile_ref: str | None) -> Path | None:
    """The folder of the profile file (where a relative prompts_file is read)."""
    if not profile_ref:
        return None
    from profiles.errors import ProfileError
    from profiles.store import resolve_profile

    try:
        return resolve_profile(profile_ref).resolve().parent
    except ProfileError:
        return None


def suite_to_run(options: dict[str, Any], profile: Profile) -> Suite | None:
    """The suite to run, read before anything loads (None: a one-prompt run)."""
    from profiles.suite import SuiteError

    try:
        suite = _suite_for(options, profile)
    except SuiteError as error:
        raise UsageProblem(str(error)) from None
    if suite is not None:
        if options["prompt"] is not None or options["prompt_file"] is not None:
            raise UsageProblem("pass either --prompts FILE or a single prompt, not both")
        for flag, given in (("--seeds", options["seeds"]), ("--fidelity", options["fidelity"])):
            if given:
                raise UsageProblem(f"{flag} runs on one prompt: leave out --prompts")
    return suite


def _suite_for(options: dict[str, Any], profile: Profile) -> Suite | None:
    """The suite this run runs (None: a one-prompt run). Raises `SuiteError`."""
    from profiles.suite import suite_of

    if options["prompts_path"] is None and (
        options["prompt"] is not None or options["prompt_file"] is not None
    ):
        return None
    return suite_of(profile, profile_dir(options["profile_ref"]), options["prompts_path"])


def standings_for_profile(profile_name: str | None) -> Mapping[str, Standing] | None:
    """The blind-vote standings of a profile's votes (the vote log of `profiles.votes`),
    keyed by model reference; None until votes exist."""
    from profiles.standings import standings_by_model
    from profiles.votes import read_votes, votes_for_profile

    try:
        votes, _warnings = read_votes()
        found = standings_by_model(votes_for_profile(votes, profile_name))
    except Exception:  # noqa: BLE001 - the table shows "—" rather than failing the run
        return None
    return found or None


def run_suite(options: dict[str, Any], profile: Profile, suite: Suite) -> int:
    """Run `suite` on every pane of `profile`, print its tables and failures and write the
    exports asked for; returns the exit code."""
    from profiles.plan import build_plan

    plans = build_plan(profile, parallel=options["parallel"])
    driver_options = driver_options_for(options["deadline"])
    results, outcome, standings = _run_and_print(options, profile, suite, plans, driver_options)
    if outcome.failures:
        click.echo(failures_text(outcome.failures))
    try:
        export_suite(results, standings, outcome.mode, options)
    except OSError as error:
        raise UsageProblem(f"cannot write {error.filename}: {error.strerror or error}") from None
    return EXIT_OK if outcome.ok else EXIT_PANE_FAILED


def _run_and_print(options: dict[str, Any], profile: Profile, suite: Suite, plans, driver_options):
    """Run `suite` on `plans`; print the progress, the checks and the quality table.
    Returns the results and the outcome (for exports and the exit code)."""
    from profiles.history import read_history
    from profiles.runner import run_comparison
    from profiles.suite_run import describe_start, plan_suite_run
    from tui.commands.suite_output import SuiteProgressPrinter, checks_text, quality_table_text

    history, _warnings = read_history() if not options["no_history"] else ([], [])
    run = plan_suite_run(
        suite,
        plans,
        profile_name=profile.name,
        history=history,
        fresh=options["fresh"],
        repeat=options["repeat"],
        system_prompt=options["system_prompt"] or profile.system_prompt,
    )
    click.echo(describe_start(run, plans), err=True)
    settings = run_settings(options, profile.name, driver_options)
    mode = settings["mode"]
    printer = SuiteProgressPrinter(sys.stderr, total=run.remaining(plans))
    try:
        outcome = run_comparison(
            plans, "", on_progress=printer, items_for=run.items_for, **settings
        )
    finally:
        printer.close()
    results = run.results(outcome)
    standings = standings_for_profile(profile.name)
    click.echo(f"Suite {suite.name}: run {run.run_id}, {len(results)} answers.")
    click.echo(checks_text(results, show_text=options["show_text"]))
    click.echo(quality_table_text(results, standings, mode=mode))
    return results, outcome, standings


def export_suite(results, standings, mode: str, options: dict[str, Any]) -> None:
    """The exports asked for, each with the quality table (written atomically); a file
    that cannot be written is a `UsageProblem` naming it."""
    from engines.machine.host import host_info
    from profiles import suite_export
    from tui.commands.export_files import write_exports

    write_exports(
        options,
        {
            "json_path": lambda: suite_export.suite_to_json(
                results, standings, mode=mode, host=host_info().to_dict()
            ),
            "markdown_path": lambda: suite_export.suite_to_markdown(results, standings, mode=mode),
            "csv_path": lambda: suite_export.suite_to_csv(results, standings),
        },
    )
