"""The command palette's entries (ctrl+p): every titled action of `tui.keys`, with its key.

Textual's own system commands (theme, screenshot, quit…) come first; these follow. Each
entry calls the action method of the screen or app that owns it, found once when the
palette opens (`Action.method_name`); nothing here knows the app's or a screen's class.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial
from typing import Protocol

from textual.app import SystemCommand

from tui.action_spec import Action, key_names
from tui.keys import APP_ACTIONS, WORKBENCH_ACTIONS


def palette_commands(actions: Iterable[Action], owner: object) -> list[SystemCommand]:
    """One command per titled action; its callback is `owner`'s action method."""
    commands = []
    for action in actions:
        if not action.title:
            continue
        method = getattr(owner, action.method_name)
        keys = key_names(action)
        help_text = f"{action.help or action.description}{f' ({keys})' if keys else ''}"
        commands.append(SystemCommand(action.title, help_text, partial(method, *action.args)))
    return commands


class HasWorkbench(Protocol):
    """The app, as far as the palette needs it: the owner of `APP_ACTIONS` and of the
    workbench screen (the owner of `WORKBENCH_ACTIONS`)."""

    @property
    def workbench(self) -> object: ...


def workbench_commands(app: HasWorkbench) -> list[SystemCommand]:
    """The palette entries of the workbench screen (`app.workbench`) and of the app."""
    return palette_commands(WORKBENCH_ACTIONS, app.workbench) + palette_commands(APP_ACTIONS, app)
