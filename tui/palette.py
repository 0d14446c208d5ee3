"""The command palette's entries (ctrl+p): every workbench action, with its key.

Textual's own system commands (theme, screenshot, quit…) come first; these follow.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any

from textual.app import SystemCommand

if TYPE_CHECKING:
    from tui.app import WorkbenchApp


def workbench_commands(app: WorkbenchApp) -> list[SystemCommand]:
    """One command per action of the workbench screen and the app."""
    bench = app.workbench
    commands: list[tuple[str, str, Callable[[], Any]]] = [
        ("Run", "Run the prompt on every pane (ctrl+r, F5)", bench.action_run),
        ("Stop", "Stop every pane's generation (escape, F6)", bench.action_stop),
        (
            "Temperature up",
            "Raise the current pane's temperature by 0.1 (])",
            partial(bench.action_nudge_temperature, 0.1),
        ),
        (
            "Temperature down",
            "Lower the current pane's temperature by 0.1 ([)",
            partial(bench.action_nudge_temperature, -0.1),
        ),
        (
            "Set temperature…",
            "Type an exact temperature for the current pane (or all, when linked)",
            partial(ask_temperature, app),
        ),
        (
            "Link temperatures",
            "Toggle: temperature changes move every pane together (l)",
            bench.action_toggle_link,
        ),
        (
            "Re-run on change",
            "Toggle: a finished pane generates again when its values change (r)",
            bench.action_toggle_rerun,
        ),
        (
            "Edit sampling…",
            "All sampling values of the current pane (e)",
            bench.action_edit_sampling,
        ),
        ("Add pane…", "Add a model pane (a)", bench.action_add_pane),
        (
            "Remove pane",
            "Remove the current pane and unload its model (d)",
            bench.action_remove_pane,
        ),
        (
            "Copy answer",
            "Copy the current pane's answer to the clipboard (y)",
            bench.action_copy_answer,
        ),
        (
            "Show or hide comparison",
            "The table and charts of the last run (c)",
            bench.action_toggle_comparison,
        ),
        ("Edit prompt", "Move the cursor to the prompt (p)", bench.action_focus_prompt),
        (
            "Fold or unfold the machine panel",
            "CPU, RAM and GPUs in one line or in full (m)",
            bench.action_toggle_resources,
        ),
        ("Open profile…", "Open a saved or bundled profile (ctrl+o)", app.action_open_profile),
        ("Save profile", "Save the profile (ctrl+s)", app.action_save_profile),
        (
            "Save profile as…",
            "Save the profile under a new name (S)",
            app.action_save_profile_as,
        ),
        *export_commands(app),
        (
            "Measure fidelity",
            "Perplexity of every pane, KLD and top-1 % against the reference (bundled text)",
            app.fidelity.start,
        ),
        ("Cancel fidelity", "Stop the fidelity run within one window", app.fidelity.cancel),
        (
            "Blind vote",
            "Judge this prompt's answers as A and B, names hidden until you vote (v)",
            app.action_blind_vote,
        ),
        ("Help: keys", "Every key binding (F1, ?)", app.action_help),
    ]
    return [SystemCommand(title, help_text, callback) for title, help_text, callback in commands]


EXPORT_FORMATS = (("markdown", "Markdown", " (x)"), ("json", "JSON", ""))
"""Each export format: its name for `action_export`, its name for people, its key."""


def export_commands(app: WorkbenchApp) -> list[tuple[str, str, Callable[[], Any]]]:
    """Export each format into the current folder, or to a chosen path."""
    commands: list[tuple[str, str, Callable[[], Any]]] = []
    for fmt, name, key in EXPORT_FORMATS:
        here = f"Export the comparison to a {name} file in the current folder{key}"
        commands.append((f"Export {name}", here, partial(app.action_export, fmt)))
    for fmt, name, _ in EXPORT_FORMATS:
        chosen = f"Choose where to write the {name} export"
        commands.append((f"Export {name} to…", chosen, partial(app.action_export_to, fmt)))
    return commands


def ask_temperature(app: WorkbenchApp) -> None:
    """Ask for an exact temperature for the current pane (all panes when linked)."""
    from tui.screens.text_prompt import TextPromptScreen
    from tui.widgets.sampler_controls import parse_temperature

    def problem(text: str) -> str | None:
        try:
            parse_temperature(text)
        except ValueError as error:
            return str(error)
        return None

    def chosen(text: str | None) -> None:
        if text:
            app.workbench.set_temperature(parse_temperature(text))

    pane = app.workbench.current_pane
    value = f"{pane.sampling.temperature:g}" if pane else ""
    app.push_screen(TextPromptScreen("Temperature (0 to 2)", value=value, check=problem), chosen)
