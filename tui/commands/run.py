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

from engines.sampling_ranges import SAMPLING_RANGES
from engines.types import DEFAULT_TOP_CANDIDATES, MAX_TOP_CANDIDATES
from tui.commands.run_output import (
    ProgressPrinter,
    failures_text,
    probabilities_table,
    results_table,
    seed_spread_table,
)

EXIT_OK = 0
EXIT_PANE_FAILED = 1
EXIT_USAGE = 2

COMMAND_LINE_PROFILE = "command-line"
"""The name of the comparison built from --model options alone."""

_SWEEP_OPTIONS: dict[str, type] = {
    "temperature": float,
    "top_p": float,
    "top_k": int,
    "min_p": float,
    "repeat_penalty": float,
    "max_tokens": int,
    "seed": int,
}
"""Sampling options that take a comma list; their option name is the value's name with dashes."""


class UsageProblem(Exception):
    """Bad usage or a bad profile: one line, exit code 2."""


def _comma_list(kind: type, name: str = ""):
    allowed = SAMPLING_RANGES.get(name)

    def parse(ctx: click.Context, param: click.Parameter, value: str | None) -> list | None:
        if value is None:
            return None
        items = [item.strip() for item in value.split(",")]
        if not items or any(not item for item in items):
            raise click.BadParameter(f"{value!r} is not a comma-separated list of values")
        try:
            values = [kind(item) for item in items]
        except ValueError:
            expected = "whole numbers, e.g. 20,40" if kind is int else "numbers, e.g. 0.2,0.7"
            raise click.BadParameter(f"{value!r}: expected {expected}") from None
        problems = [allowed.problem(item) for item in values] if allowed else []
        for problem in problems:
            if problem:
                raise click.BadParameter(problem)
        return values

    return parse


def _sweep_option(name: str, kind: type, help_text: str):
    """`--NAME X[,X...]`; its help states the range from `engines.sampling_ranges`."""
    flag = "--" + name.replace("_", "-")
    if name in SAMPLING_RANGES:
        help_text = f"{help_text} {SAMPLING_RANGES[name].describe().capitalize()}."
    metavar = "N[,N...]" if kind is int else "X[,X...]"
    return click.option(
        flag, name, callback=_comma_list(kind, name), metavar=metavar, help=help_text
    )


def _output_file_option(fmt: str, help_text: str):
    """`--FMT FILE`, passed to the command as `FMT_path`."""
    return click.option(
        f"--{fmt}", f"{fmt}_path", type=click.Path(dir_okay=False), metavar="FILE", help=help_text
    )


@click.command("run", context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--profile", "-p", "profile_ref", metavar="NAME|PATH", help="Run this profile.")
@click.option(
    "--model",
    "-m",
    "models",
    multiple=True,
    metavar="REF",
    help="Run this model (repeatable); with --profile, these replace its panes.",
)
@click.option("--prompt", metavar="TEXT", help="The prompt ('-' reads standard input).")
@click.option(
    "--prompt-file",
    type=click.Path(dir_okay=False, allow_dash=True),
    metavar="FILE",
    help="Read the prompt from FILE ('-' for standard input).",
)
@click.option(
    "--prompts",
    "prompts_path",
    type=click.Path(dir_okay=False),
    metavar="FILE",
    help="Run a prompt suite: every prompt of FILE (JSONL, or one prompt per paragraph) on "
    "every pane, with its checks and a quality x cost table. A profile's own suite "
    "([[prompts]] or prompts_file) runs when no --prompt is given.",
)
@click.option(
    "--resume/--fresh",
    "resume",
    default=True,
    help="A suite run resumes the unfinished run of the same suite and profile found in the "
    "history (default), or starts over.",
)
@click.option("--system", "system_prompt", metavar="TEXT", help="System prompt for chat models.")
@_sweep_option("temperature", float, "Temperature(s); a comma list runs each one.")
@_sweep_option("top_p", float, "Top-p value(s).")
@_sweep_option("top_k", int, "Top-k value(s).")
@_sweep_option("min_p", float, "Min-p value(s).")
@_sweep_option("repeat_penalty", float, "Repeat penalty value(s).")
@_sweep_option("max_tokens", int, "Most tokens per answer.")
@_sweep_option("seed", int, "Random seed(s).")
@click.option(
    "--seeds",
    type=click.IntRange(min=2, max=100),
    metavar="N",
    help="Run every pane with seeds 1..N and show, per temperature, how many distinct "
    "answers came out and how alike they are.",
)
@click.option(
    "--logprobs",
    type=click.IntRange(min=1, max=MAX_TOP_CANDIDATES),
    metavar="N",
    help=f"Put each token's probability and its top N candidates (1 to {MAX_TOP_CANDIDATES}) "
    "in the JSON export (OpenAI's logprobs shape), for local models and servers that send "
    "them (llama-server, vLLM). Without it the top "
    f"{DEFAULT_TOP_CANDIDATES} are still read, for the answer's log-probability, "
    "perplexity and entropy in the table and exports.",
)
@click.option(
    "--repeat",
    type=click.IntRange(min=1),
    metavar="N",
    default=1,
    show_default=True,
    help="Measured runs per pane; the table shows mean ± standard deviation.",
)
@click.option(
    "--warmup",
    type=click.IntRange(min=0),
    metavar="N",
    default=0,
    show_default=True,
    help="Unmeasured runs per pane before the measured ones.",
)
@click.option(
    "--parallel/--sequential",
    "parallel",
    default=False,
    help="Run panes at the same time, or one after another (default: sequential, fair for speed).",
)
@_output_file_option("json", "Write the results as JSON.")
@_output_file_option("markdown", "Write the results and answers as Markdown.")
@_output_file_option("csv", "Write the results as CSV.")
@click.option(
    "--llama-bench-json",
    "llama_bench_json_path",
    type=click.Path(dir_okay=False),
    metavar="FILE",
    help="Write the results as llama-bench JSON records (a pp and a tg test per pane), "
    "for llama.cpp's scripts/compare-llama-bench.py.",
)
@click.option("--show-text", is_flag=True, help="Print each answer after the table.")
@click.option(
    "--n-ctx", type=click.IntRange(min=1), metavar="N", help="Context size for every pane."
)
@click.option(
    "--n-gpu-layers",
    type=click.IntRange(min=-1),
    metavar="N",
    help="Layers to offload to the GPU for every pane (-1: all).",
)
@click.option(
    "--threads",
    type=click.IntRange(min=1),
    metavar="N",
    help="CPU threads for every pane (default: llmbench chooses).",
)
@click.option("--force", is_flag=True, help="Load models even when they may not fit in memory.")
@click.option("--no-history", is_flag=True, help="Do not append the results to the history.")
@click.option(
    "--deadline",
    type=click.FloatRange(min=0),
    metavar="SECONDS",
    help="The longest one generation may take before its pane fails (0: no limit; "
    "default: config.toml's [run] generation_deadline_s, else 600).",
)
@click.option(
    "--fidelity",
    is_flag=True,
    help="Also measure what quantization costs: perplexity of each local pane, and KLD, "
    "same top token % and Δp against the reference pane (as llama-perplexity does).",
)
@click.option(
    "--text",
    "fidelity_text",
    type=click.Path(dir_okay=False),
    metavar="FILE",
    help="The text --fidelity evaluates (default: the bundled reference text).",
)
@click.option(
    "--fidelity-ctx",
    type=click.IntRange(min=16),
    default=512,
    show_default=True,
    metavar="N",
    help="Window size of --fidelity (llama-perplexity's -c; its -b is the same).",
)
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
    profile = _comparison(options)
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


# --- the comparison from the options ------------------------------------------------


def _comparison(options: dict[str, Any]):
    """The profile to run: --profile and/or --model panes, with the options applied."""
    from pydantic import ValidationError

    from profiles.errors import ProfileError
    from profiles.schema import PaneSpec, Profile

    if not options["profile_ref"] and not options["models"]:
        raise UsageProblem("nothing to run: pass --profile NAME|PATH and/or --model REF")
    try:
        if options["profile_ref"]:
            from profiles.store import load_profile

            profile = load_profile(options["profile_ref"])
        else:
            profile = None
        if options["models"]:
            panes = [PaneSpec(model=ref) for ref in options["models"]]
        else:
            panes = list(profile.panes) if profile else []
    except ProfileError as error:
        raise UsageProblem(str(error)) from None
    except ValidationError as error:
        raise UsageProblem(_validation_line(error, "--model")) from None
    _check_model_refs(panes, None if options["models"] else options["profile_ref"])
    panes = [_with_settings(pane, options) for pane in panes]
    panes = _with_sweeps(panes, options)
    try:
        if profile is None:
            return Profile(name=COMMAND_LINE_PROFILE, panes=panes)
        return profile.model_copy(update={"panes": panes})
    except ValidationError as error:
        raise UsageProblem(_validation_line(error, "the comparison")) from None


_SETTING_OPTIONS = (
    ("n_ctx", "n_ctx", "--n-ctx"),
    ("n_gpu_layers", "n_gpu_layers", "--n-gpu-layers"),
    ("n_threads", "threads", "--threads"),
)
"""(model setting, click parameter, the flag a user types) for the options that set a model
setting on every pane; an error names the flag typed."""


def _check_model_refs(panes: list, profile_ref: str | None) -> None:
    """Refuse a malformed model reference (hf:foo) as bad usage before anything loads.
    `profile_ref` names the profile the panes come from (None: from --model)."""
    from engines.models.references import ModelRefError, parse_model_ref

    for index, pane in enumerate(panes):
        try:
            parse_model_ref(pane.model)
        except ModelRefError as error:
            where = f"profile {profile_ref}: panes[{index}].model" if profile_ref else "--model"
            raise UsageProblem(f"{where}: {error}") from None


def _with_settings(pane, options: dict[str, Any]):
    from pydantic import ValidationError

    from profiles.schema import ModelSettingsSpec

    changes = {
        key: options[param] for key, param, _flag in _SETTING_OPTIONS if options[param] is not None
    }
    if options["force"]:
        changes["allow_oversize"] = True
    if not changes:
        return pane
    try:
        settings = ModelSettingsSpec(**{**pane.settings.model_dump(), **changes})
    except ValidationError as error:
        flags = {key: flag for key, _param, flag in _SETTING_OPTIONS}
        raise UsageProblem(_validation_line(error, "option", flags=flags)) from None
    return pane.model_copy(update={"settings": settings})


def _with_sweeps(panes: list, options: dict[str, Any]) -> list:
    from pydantic import ValidationError

    from profiles.plan import expand_grid

    sweeps = {name: options[name] for name in _SWEEP_OPTIONS if options[name] is not None}
    if not sweeps:
        return panes
    try:
        return expand_grid(panes, sweeps)
    except ValidationError as error:
        flags = {name: "--" + name.replace("_", "-") for name in _SWEEP_OPTIONS}
        raise UsageProblem(_validation_line(error, "option", flags=flags)) from None


def _validation_line(error, what: str, flags: dict[str, str] | None = None) -> str:
    """The first problem of a pydantic error as one line, naming the option where possible
    (`flags`: field name → the option the user typed for it)."""
    item = error.errors(include_url=False)[0]
    loc = [str(part) for part in item.get("loc", ()) if not isinstance(part, int)]
    if flags is not None and loc:
        where = flags.get(loc[-1], f"--{loc[-1].replace('_', '-')}")
    else:
        where = f"{what} ({'.'.join(loc)})" if loc and not what.startswith("--") else what
    value = item.get("input")
    shown = f" (got {value!r})" if isinstance(value, str | int | float) else ""
    return f"{where}: {item.get('msg', 'invalid value').lower()}{shown}"


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
    from profiles.atomic import atomic_write_text
    from profiles.llama_bench_export import to_llama_bench_json

    documents = {
        "json_path": lambda: json_export.to_json(
            rows, mode=outcome.mode, host=host_info().to_dict()
        ),
        "markdown_path": lambda: markdown_export.to_markdown(rows, mode=outcome.mode),
        "csv_path": lambda: csv_export.to_csv(rows),
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
