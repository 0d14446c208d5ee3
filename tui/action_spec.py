"""One action of the workbench and what derives from it: its Textual bindings, its key names.

`Action` is a row of the action tables in `tui.keys`. The screens' and the app's `BINDINGS`
come from `Action.bindings` (`bindings_of`), the command palette (`tui.palette`) from its
title and `key_names`, and the help screen (`tui.screens.help`) from the bindings, so one
row says everything about an action once.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.binding import Binding, BindingType


@dataclass(frozen=True)
class Action:
    """One action: the keys that run it and how it is named in the footer, help and palette."""

    key: str
    """Textual key name(s), comma separated; "" for an action only the palette offers."""
    action: str
    """The action method's name without `action_` (the method is on the screen or app)."""
    description: str
    """The short footer label (and the help's words when `help` is empty)."""
    help: str = ""
    """What it does, in a sentence: the tooltip, the help screen, the palette's line."""
    show: bool = False
    """Shown in the footer."""
    title: str = ""
    """Its name in the command palette; "" keeps it out of the palette."""
    args: tuple[object, ...] = ()
    """Arguments passed to the action method."""
    priority: bool = False
    """Also works while a text field has focus (Textual priority binding)."""
    key_display: str | None = None
    more_keys: str = ""
    """Other keys for the same action, never shown in the footer (F5 beside ctrl+r)."""

    @property
    def action_text(self) -> str:
        """The action as Textual's binding syntax writes it: `name` or `name(arg, …)`."""
        if not self.args:
            return self.action
        return f"{self.action}({', '.join(repr(arg) for arg in self.args)})"

    @property
    def method_name(self) -> str:
        return f"action_{self.action}"

    def bindings(self) -> list[Binding]:
        """The Textual bindings of this action (none for a palette-only action)."""
        found = []
        words = self.help or self.description
        if self.key:
            found.append(
                Binding(
                    self.key,
                    self.action_text,
                    self.description,
                    show=self.show,
                    priority=self.priority,
                    key_display=self.key_display,
                    tooltip=words,
                )
            )
        if self.more_keys:
            found.append(
                Binding(
                    self.more_keys,
                    self.action_text,
                    self.description,
                    show=False,
                    priority=self.priority,
                    tooltip=words,
                )
            )
        return found


def bindings_of(actions: tuple[Action, ...]) -> list[BindingType]:
    """Every binding of `actions`, in table order."""
    return [binding for action in actions for binding in action.bindings()]


def key_name(key: str) -> str:
    """One key as people read it ("?" for Textual's "question_mark")."""
    return {"question_mark": "?", "left_square_bracket": "[", "right_square_bracket": "]"}.get(
        key, key
    )


def key_names(action: Action) -> str:
    """The keys of `action` as people read them ("ctrl+r, f5"), or "" for none."""
    keys = [action.key_display or key for key in action.key.split(",") if key]
    keys += [key for key in action.more_keys.split(",") if key]
    return ", ".join(key_name(key) for key in keys)
