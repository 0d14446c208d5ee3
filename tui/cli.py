"""The `llmbench` command line: the workbench by default, and subcommands for scripts.

Subcommands are imported only when used, so `llmbench --help` and `llmbench --version`
never load Textual, llama.cpp or a model.
"""

from __future__ import annotations

import importlib
from importlib.metadata import PackageNotFoundError, version

import click

from tui.commands.workbench_options import workbench_options

SUBCOMMANDS: dict[str, str] = {
    "models": "tui.commands.models:models",
    "pull": "tui.commands.models:pull",
    "doctor": "tui.commands.doctor:doctor",
    "profiles": "tui.commands.profiles:profiles",
    "history": "tui.commands.profiles:history",
    "run": "tui.commands.run:run",
    "serve": "tui.commands.serve:serve",
    "votes": "tui.commands.votes:votes",
}
"""Subcommand name → "module:attribute" of its click command, imported on first use."""

SUBCOMMAND_HELP: dict[str, str] = {
    "models": "List the GGUF models found on this machine.",
    "pull": "Download a model from the Hugging Face Hub.",
    "doctor": "Show this machine and the llama.cpp backend this install really has.",
    "profiles": "List, show, check, delete and restore comparison profiles.",
    "history": "List and show past results.",
    "run": "Run a comparison headless and print (or export) the results.",
    "serve": "Serve the workbench to a web browser (127.0.0.1 by default).",
    "votes": "Print the standings from the blind votes (win rates, ratings).",
}


class LazyGroup(click.Group):
    """A click group whose subcommands are imported only when invoked."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(SUBCOMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = SUBCOMMANDS.get(cmd_name)
        if target is None:
            return None
        module_name, attribute = target.split(":")
        return getattr(importlib.import_module(module_name), attribute)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """List subcommands from SUBCOMMAND_HELP, without importing them."""
        rows = [(name, SUBCOMMAND_HELP.get(name, "")) for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


def _package_version() -> str:
    try:
        return version("llmbench")
    except PackageNotFoundError:
        return "unknown (not installed)"


@click.group(
    cls=LazyGroup,
    invoke_without_command=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.version_option(_package_version(), "--version", "-V", prog_name="llmbench")
@workbench_options
@click.pass_context
def cli(ctx: click.Context, profile: str | None, models: tuple[str, ...], no_history: bool) -> None:
    """Compare language models side by side in your terminal.

    With no subcommand, opens the workbench: the `small-vs-large` demo comparison, a
    profile (--profile), or the models you name (--model REF, repeatable; with --profile,
    they replace its panes and the profile gives the prompt and sampling). A model REF is
    a .gguf path, demo:smollm2-135m, demo:gemma3-270m, hf:OWNER/REPO:QUANT, or a name
    from `llmbench models`.
    """
    if ctx.invoked_subcommand is not None:
        return
    from tui.launch import launch_workbench

    launch_workbench(profile=profile, models=list(models), history=not no_history)


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="llmbench")


if __name__ == "__main__":
    # `python -m tui.cli`: how `llmbench serve` starts a workbench per browser tab.
    main()
