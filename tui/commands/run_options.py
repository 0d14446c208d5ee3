"""The options of `llmbench run`, declared once: `run_options` puts them on the command.

A sampling option takes a comma list (a sweep); its values are checked against the ranges
of `engines.sampling_ranges`, which its help states.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from engines.sampling_ranges import SAMPLING_RANGES
from engines.types import DEFAULT_TOP_CANDIDATES, MAX_TOP_CANDIDATES

SWEEP_OPTIONS: dict[str, type] = {
    "temperature": float,
    "top_p": float,
    "top_k": int,
    "min_p": float,
    "repeat_penalty": float,
    "max_tokens": int,
    "seed": int,
}
"""Sampling options that take a comma list; their option name is the value's name with dashes."""


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


_OPTIONS = (
    click.option("--profile", "-p", "profile_ref", metavar="NAME|PATH", help="Run this profile."),
    click.option(
        "--model",
        "-m",
        "models",
        multiple=True,
        metavar="REF",
        help="Run this model (repeatable); with --profile, these replace its panes.",
    ),
    click.option("--prompt", metavar="TEXT", help="The prompt ('-' reads standard input)."),
    click.option(
        "--prompt-file",
        type=click.Path(dir_okay=False, allow_dash=True),
        metavar="FILE",
        help="Read the prompt from FILE ('-' for standard input).",
    ),
    click.option(
        "--prompts",
        "prompts_path",
        type=click.Path(dir_okay=False),
        metavar="FILE",
        help="Run a prompt suite: every prompt of FILE (JSONL, or one prompt per paragraph) on "
        "every pane, with its checks and a quality x cost table. A profile's own suite "
        "([[prompts]] or prompts_file) runs when no --prompt is given.",
    ),
    click.option(
        "--resume/--fresh",
        "resume",
        default=True,
        help="A suite run resumes the unfinished run of the same suite and profile found in the "
        "history (default), or starts over.",
    ),
    click.option(
        "--system", "system_prompt", metavar="TEXT", help="System prompt for chat models."
    ),
    _sweep_option("temperature", float, "Temperature(s); a comma list runs each one."),
    _sweep_option("top_p", float, "Top-p value(s)."),
    _sweep_option("top_k", int, "Top-k value(s)."),
    _sweep_option("min_p", float, "Min-p value(s)."),
    _sweep_option("repeat_penalty", float, "Repeat penalty value(s)."),
    _sweep_option("max_tokens", int, "Most tokens per answer."),
    _sweep_option("seed", int, "Random seed(s)."),
    click.option(
        "--seeds",
        type=click.IntRange(min=2, max=100),
        metavar="N",
        help="Run every pane with seeds 1..N and show, per temperature, how many distinct "
        "answers came out and how alike they are.",
    ),
    click.option(
        "--logprobs",
        type=click.IntRange(min=1, max=MAX_TOP_CANDIDATES),
        metavar="N",
        help=f"Put each token's probability and its top N candidates (1 to {MAX_TOP_CANDIDATES}) "
        "in the JSON export (OpenAI's logprobs shape), for local models and servers that send "
        "them (llama-server, vLLM). Without it the top "
        f"{DEFAULT_TOP_CANDIDATES} are still read, for the answer's log-probability, "
        "perplexity and entropy in the table and exports.",
    ),
    click.option(
        "--repeat",
        type=click.IntRange(min=1),
        metavar="N",
        default=1,
        show_default=True,
        help="Measured runs per pane; the table shows mean ± standard deviation.",
    ),
    click.option(
        "--warmup",
        type=click.IntRange(min=0),
        metavar="N",
        default=0,
        show_default=True,
        help="Unmeasured runs per pane before the measured ones.",
    ),
    click.option(
        "--parallel/--sequential",
        "parallel",
        default=False,
        help="Run panes at the same time, or one after another (default: sequential, fair for "
        "speed).",
    ),
    _output_file_option("json", "Write the results as JSON."),
    _output_file_option("markdown", "Write the results and answers as Markdown."),
    _output_file_option("csv", "Write the results as CSV."),
    click.option(
        "--llama-bench-json",
        "llama_bench_json_path",
        type=click.Path(dir_okay=False),
        metavar="FILE",
        help="Write the results as llama-bench JSON records (a pp and a tg test per pane), "
        "for llama.cpp's scripts/compare-llama-bench.py.",
    ),
    click.option("--show-text", is_flag=True, help="Print each answer after the table."),
    click.option(
        "--n-ctx", type=click.IntRange(min=1), metavar="N", help="Context size for every pane."
    ),
    click.option(
        "--n-gpu-layers",
        type=click.IntRange(min=-1),
        metavar="N",
        help="Layers to offload to the GPU for every pane (-1: all).",
    ),
    click.option(
        "--threads",
        type=click.IntRange(min=1),
        metavar="N",
        help="CPU threads for every pane (default: llmbench chooses).",
    ),
    click.option("--force", is_flag=True, help="Load models even when they may not fit in memory."),
    click.option("--no-history", is_flag=True, help="Do not append the results to the history."),
    click.option(
        "--deadline",
        type=click.FloatRange(min=0),
        metavar="SECONDS",
        help="The longest one generation may take before its pane fails (0: no limit; "
        "default: config.toml's [run] generation_deadline_s, else 600).",
    ),
    click.option(
        "--fidelity",
        is_flag=True,
        help="Also measure what quantization costs: perplexity of each local pane, and KLD, "
        "same top token % and Δp against the reference pane (as llama-perplexity does).",
    ),
    click.option(
        "--text",
        "fidelity_text",
        type=click.Path(dir_okay=False),
        metavar="FILE",
        help="The text --fidelity evaluates (default: the bundled reference text).",
    ),
    click.option(
        "--fidelity-ctx",
        type=click.IntRange(min=16),
        default=512,
        show_default=True,
        metavar="N",
        help="Window size of --fidelity (llama-perplexity's -c; its -b is the same).",
    ),
)
"""Every option of `llmbench run`, in the order its help lists them."""


def run_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """Put every option of `llmbench run` on `command`, as stacked decorators would (the
    first one listed first in the help)."""
    for option in reversed(_OPTIONS):
        command = option(command)
    return command
