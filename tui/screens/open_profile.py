"""OpenProfileScreen: pick a saved or bundled profile from a list.

Each entry shows its name, where it comes from (bundled or yours) and its description,
or why it does not load (a broken profile is listed, never hidden). Dismisses with the
chosen profile's path as a string, or None.
"""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList
from textual.widgets.option_list import Option

from profiles.store import ProfileEntry


def entry_prompt(entry: ProfileEntry) -> Text:
    """One entry as two lines: name and source, then description or error."""
    text = Text(entry.name, style="bold")
    text.append(f"  {entry.source}", style="dim")
    if entry.shadowed:
        text.append(" (hidden by your copy)", style="dim")
    if entry.error:
        text.append(f"\n  ✗ {entry.error}", style="red")
    elif entry.description:
        text.append(f"\n  {entry.description}", style="dim")
    return text


class OpenProfileScreen(ModalScreen[str | None]):
    """Choose a profile to open."""

    DEFAULT_CSS = """
    OpenProfileScreen {
        align: center middle;
    }
    OpenProfileScreen > Vertical {
        width: 90;
        max-width: 95%;
        height: auto;
        max-height: 90%;
        border: round $accent;
        background: $panel;
        padding: 0 1;
    }
    OpenProfileScreen OptionList {
        height: auto;
        max-height: 20;
    }
    OpenProfileScreen .open--hint {
        color: $text-muted;
    }
    """

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(
        self, entries: list[ProfileEntry], *, title: str = "Open a profile", verb: str = "open"
    ) -> None:
        super().__init__()
        self._entries = entries
        self._title = title
        self._verb = verb

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = self._title
            options = [
                Option(entry_prompt(entry), id=str(entry.path), disabled=entry.error is not None)
                for entry in self._entries
            ]
            yield OptionList(*options, id="profiles")
            yield Label(f"enter to {self._verb} · escape to cancel", classes="open--hint")

    @on(OptionList.OptionSelected, "#profiles")
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        self.dismiss(None)
