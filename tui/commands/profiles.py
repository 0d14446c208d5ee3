"""`llmbench profiles` and `llmbench history`: saved comparisons and past results, as plain text.

Exit codes: 0 success; 2 a profile or result that cannot be found or does not validate
(one line per problem on standard error, never a traceback).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NoReturn

import click

from profiles.errors import ProfileError
from profiles.export_fields import human_params, result_to_record
from profiles.history import HistoryLookupError, find_result, history_path, read_history
from profiles.results import RunResult
from profiles.store import list_profiles, profiles_dir, resolve_profile
from tui.formatting import speed

BAD_INPUT = 2
"""Exit code for a profile or result that cannot be found or read."""

DASH = "—"


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]], right: Sequence[int] = ()) -> str:
    """Plain aligned columns; the last column is never padded."""
    widths = [max(len(str(row[i])) for row in [headers, *rows]) for i in range(len(headers))]
    lines = []
    for row in [headers, *rows]:
        cells = []
        for i, cell in enumerate(row):
            if i == len(row) - 1:
                cells.append(str(cell))
            elif i in right:
                cells.append(str(cell).rjust(widths[i]))
            else:
                cells.append(str(cell).ljust(widths[i]))
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


def _fail(lines: Sequence[str]) -> NoReturn:
    for line in lines:
        click.echo(f"error: {line}", err=True)
    raise SystemExit(BAD_INPUT)


# --- llmbench profiles ----------------------------------------------------------------------


@click.group(invoke_without_command=True)
@click.pass_context
def profiles(ctx: click.Context) -> None:
    """List comparison profiles (bundled and saved); `show NAME` prints one; `delete NAME`
    deletes a saved one; `restore NAME` brings a bundled one back."""
    if ctx.invoked_subcommand is None:
        ctx.invoke(list_command)


@profiles.command("list")
def list_command() -> None:
    """List bundled and saved profiles; a broken one is listed with its error."""
    entries = list_profiles()
    rows = []
    for entry in entries:
        source = f"{entry.source} (hidden by user copy)" if entry.shadowed else entry.source
        about = f"ERROR: {entry.error}" if entry.error else entry.description
        panes = str(entry.n_panes) if not entry.error else DASH
        rows.append([entry.name, source, panes, about])
    click.echo(_table(["NAME", "SOURCE", "PANES", "DESCRIPTION"], rows, right=(2,)))
    click.echo(f"\nSaved profiles live in {profiles_dir()}")
    click.echo(
        "Open one with `llmbench --profile NAME`; print one with `llmbench profiles show NAME`."
    )


@profiles.command("show")
@click.argument("name_or_path", metavar="NAME|PATH")
def show_command(name_or_path: str) -> None:
    """Print a profile's TOML exactly as stored (after checking that it validates)."""
    from profiles.store import load_profile_file

    try:
        path = resolve_profile(name_or_path)
        load_profile_file(path)
        text = path.read_text(encoding="utf-8")
    except ProfileError as error:
        _fail(error.all_lines())
    click.echo(text, nl=not text.endswith("\n"))


@profiles.command("check")
@click.argument("names_or_paths", metavar="NAME|PATH...", nargs=-1, required=True)
def check_command(names_or_paths: tuple[str, ...]) -> None:
    """Validate profiles; print every problem found (exit 2 if any)."""
    from profiles.store import load_profile_file

    problems: list[str] = []
    for name_or_path in names_or_paths:
        try:
            path = resolve_profile(name_or_path)
            profile = load_profile_file(path)
        except ProfileError as error:
            problems += error.all_lines()
            continue
        click.echo(f"ok: {path} ({profile.name}, {len(profile.panes)} panes, {profile.mode})")
    if problems:
        _fail(problems)


@profiles.command("delete")
@click.argument("name", metavar="NAME")
def delete_command(name: str) -> None:
    """Delete one of your saved profiles (bundled profiles cannot be deleted)."""
    from profiles.profile_removal import delete_saved_profile, has_bundled

    try:
        path = delete_saved_profile(name)
    except ProfileError as error:
        _fail(error.all_lines())
    click.echo(f"deleted {path}")
    if has_bundled(name):
        click.echo(f"the bundled profile '{name}' shows again")


@profiles.command("restore")
@click.argument("name", metavar="NAME")
def restore_command(name: str) -> None:
    """Remove your copy of a bundled profile, so the bundled one shows again."""
    from profiles.profile_removal import restore_bundled_profile

    try:
        restore_bundled_profile(name)
    except ProfileError as error:
        _fail(error.all_lines())
    click.echo(f"restored the bundled profile '{name}' (your copy was removed)")


# --- llmbench history -----------------------------------------------------------------------


def _load_history() -> list[RunResult]:
    results, warnings = read_history()
    for warning in warnings:
        click.echo(f"warning: {warning}", err=True)
    return results


def _short_date(result: RunResult) -> str:
    try:
        return result.created.astimezone().strftime("%Y-%m-%d %H:%M")
    except ValueError:
        return result.created_at


@click.group(invoke_without_command=True)
@click.option(
    "--limit", "-n", default=20, show_default=True, help="How many recent runs to list (0: all)."
)
@click.pass_context
def history(ctx: click.Context, limit: int) -> None:
    """List recent results (newest last); `show ID` prints one in full."""
    if ctx.invoked_subcommand is not None:
        return
    results = _load_history()
    if not results:
        click.echo(f"No results yet (the history is {history_path()}).")
        return
    shown = results[-limit:] if limit > 0 else results
    rows = [
        [
            r.id,
            _short_date(r),
            r.profile or DASH,
            r.pane_label,
            r.model_ref,
            str(r.figures.generated_tokens),
            speed(r.figures.decode_tps),
            r.figures.stop_reason,
        ]
        for r in shown
    ]
    headers = ["ID", "DATE", "PROFILE", "PANE", "MODEL", "TOKENS", "DECODE TOK/S", "STOP"]
    click.echo(_table(headers, rows, right=(5, 6)))
    if len(shown) < len(results):
        click.echo(f"\n{len(shown)} of {len(results)} runs shown; `--limit 0` lists all.")


@history.command("show")
@click.argument("result_id", metavar="ID")
def history_show(result_id: str) -> None:
    """Print one result in full: figures, settings, provenance, prompt and answer."""
    try:
        result = find_result(result_id, _load_history())
    except HistoryLookupError as error:
        _fail([str(error)])
    click.echo(format_result(result))


def format_result(result: RunResult) -> str:
    """One result as readable text: every record field, then the prompt and the answer."""
    record = result_to_record(result)
    long_fields = ("prompt", "system_prompt", "text")
    title = f"{result.pane_label} — {result.model_ref}"
    lines = [title, "=" * len(title)]
    width = max(len(key) for key in record)
    for key, value in record.items():
        if key in long_fields:
            continue
        lines.append(f"{key.ljust(width)}  {_value_text(key, value)}")
    for key, heading in (
        ("prompt", "Prompt"),
        ("system_prompt", "System prompt"),
        ("text", "Answer"),
    ):
        value = record[key]
        if value is None:
            continue
        lines += ["", f"{heading}:", value]
    return "\n".join(lines)


def _value_text(key: str, value: object) -> str:
    if value is None or value == "":
        return DASH
    if key == "model_n_params" and isinstance(value, int):
        return f"{value} ({human_params(value)})"
    if key == "model_size" and isinstance(value, int):
        return f"{value} bytes ({value / 2**20:.1f} MiB)"
    if key == "sampling_changes" and isinstance(value, list):
        return "; ".join(_change_text(change) for change in value) or DASH
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, list):
        return (
            ", ".join(repr(item) if isinstance(item, str) else str(item) for item in value) or DASH
        )
    return str(value)


def _change_text(change: dict) -> str:
    values = " ".join(f"{name}={item!r}" for name, item in change["sampling"].items())
    return f"from token {change['at_token']}: {values}"
