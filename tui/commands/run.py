"""`llmbench run`: a comparison to the end without the workbench, for scripts, SSH and CI.

Progress goes to standard error, the results table to standard output. Exit codes: 0 every
pane finished, 1 at least one pane failed (the others are still reported), 2 bad usage or
a bad profile. Every failure is one line, never a traceback.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from tui.commands.run_options import run_options
from tui.commands.run_output import (
    ProgressPrinter,
    failures_text,
    probabilities_table,
    results_table,
    seed_spread_table,
)
from tui.commands.run_profile import profile_to_run
from tui.commands.run_usage import EXIT_OK, EXIT_PANE_FAILED, EXIT_USAGE, UsageProblem


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
    from profiles.plan import build_plan
    from profiles.runner import run_comparison
    from tui.commands.run_settings import run_settings

    if options["seeds"] is not None:
        if options["seed"] is not None:
            raise UsageProblem("pass either --seed or --seeds, not both")
        options = {**options, "seed": list(range(1, options["seeds"] + 1))}
    profile = profile_to_run(options)
    options["fresh"] = not options["resume"]
    suite = _suite(options, profile)
    if suite is not None:
        return _run_suite(options, profile, suite)
    prompt = _prompt(options, profile.prompt)
    system_prompt = options["system_prompt"] or profile.system_prompt
    plans = build_plan(profile, parallel=options["parallel"])
    driver_options = _driver_options(options["deadline"])
    fidelity_text = _fidelity_text(options)
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
    if fidelity_text is not None:
        _measure_fidelity(plans, outcome, fidelity_text, options["fidelity_ctx"])
    click.echo(results_table(plans, outcome, show_text=options["show_text"]))
    if any(result.figures.mean_entropy is not None for result in outcome.results):
        click.echo(probabilities_table(plans, outcome))
    if options["seeds"] is not None:
        click.echo(seed_spread_table(outcome.results))
    if outcome.failures:
        click.echo(failures_text(outcome.failures))
    _export(outcome, options, _export_rows(plans, outcome, prompt, system_prompt, profile.name))
    return EXIT_OK if outcome.ok else EXIT_PANE_FAILED


def _suite(options: dict[str, Any], profile):
    """The suite to run, read before anything loads (None: a one-prompt run)."""
    from profiles.suite import SuiteError
    from tui.commands.run_suite import suite_for

    try:
        suite = suite_for(options, profile)
    except SuiteError as error:
        raise UsageProblem(str(error)) from None
    if suite is not None:
        if options["prompt"] is not None or options["prompt_file"] is not None:
            raise UsageProblem("pass either --prompts FILE or a single prompt, not both")
        for flag, given in (("--seeds", options["seeds"]), ("--fidelity", options["fidelity"])):
            if given:
                raise UsageProblem(f"{flag} runs on one prompt: leave out --prompts")
    return suite


def _run_suite(options: dict[str, Any], profile, suite) -> int:
    from profiles.plan import build_plan
    from tui.commands.run_suite import export_suite, run_suite

    plans = build_plan(profile, parallel=options["parallel"])
    driver_options = _driver_options(options["deadline"])
    results, outcome, standings = run_suite(options, profile, suite, plans, driver_options)
    if outcome.failures:
        click.echo(failures_text(outcome.failures))
    try:
        export_suite(results, standings, outcome.mode, options)
    except OSError as error:
        raise UsageProblem(f"cannot write {error.filename}: {error.strerror or error}") from None
    return EXIT_OK if outcome.ok else EXIT_PANE_FAILED


def _driver_options(deadline: float | None):
    """How each generation is driven: --deadline, else config.toml's."""
    from engines.config import ConfigError, load_config
    from profiles.run_driver import DriverOptions

    if deadline is not None:
        return DriverOptions(generation_deadline_s=deadline or None)
    try:
        load_config()
    except ConfigError as error:
        raise UsageProblem(str(error)) from None
    return DriverOptions.from_config()


def _fidelity_text(options: dict[str, Any]) -> str | None:
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


def _measure_fidelity(plans, outcome, text: str, n_ctx: int) -> None:
    """Run the fidelity pass, print its table and put its figures into the results."""
    from engines.fidelity.reference_store import text_sha256
    from profiles.fidelity_run import run_fidelity
    from profiles.results import FidelityRecord
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
    from profiles import export
    from profiles.atomic import atomic_write_text
    from profiles.llama_bench_export import to_llama_bench_json

    documents = {
        "json_path": lambda: export.to_json(rows, mode=outcome.mode, host=host_info().to_dict()),
        "markdown_path": lambda: export.to_markdown(rows, mode=outcome.mode),
        "csv_path": lambda: export.to_csv(rows),
        "llama_bench_json_path": lambda: to_llama_bench_json(outcome.results),
    }
    for option, document in documents.items():
        path = options[option]
        if path is None:
            continue
        try:
            atomic_write_text(path, document())
        except OSError as error:
            raise UsageProblem(f"cannot write {path}: {error.strerror or error}") from None
