"""Every key of the workbench, in one place.

The screens bind these lists, the help screen lists them, and the README's key table
follows them. Keys that terminals deliver over SSH were chosen (ctrl+r and F5 run,
escape and F6 stop; ctrl+enter alone would not reach the app in many terminals).
Letter keys are not priority bindings: while the cursor is in a text field the letter
is typed, and escape leaves the field.
"""

from __future__ import annotations

from textual.binding import Binding

WORKBENCH_BINDINGS: list[Binding] = [
    Binding("ctrl+r", "run", "Run", priority=True, tooltip="Run the prompt on every pane"),
    Binding("f5", "run", "Run", show=False, priority=True),
    Binding("escape", "stop", "Stop", priority=True, tooltip="Stop every pane's generation"),
    Binding("f6", "stop", "Stop", show=False, priority=True),
    Binding("escape", "leave_field", "Leave field", priority=True, tooltip="Leave the text field"),
    Binding(
        "left_square_bracket",
        "nudge_temperature(-0.1)",
        "T−",
        key_display="[",
        tooltip="Lower the temperature by 0.1 (current pane, or all when linked)",
    ),
    Binding(
        "right_square_bracket",
        "nudge_temperature(0.1)",
        "T+",
        key_display="]",
        tooltip="Raise the temperature by 0.1 (current pane, or all when linked)",
    ),
    Binding(
        "t",
        "type_temperature",
        "Set T",
        show=False,
        tooltip="Type an exact temperature for the current pane",
    ),
    Binding(
        "l",
        "toggle_link",
        "Link T",
        tooltip="Link temperatures: changes move every pane together",
    ),
    Binding(
        "r",
        "toggle_rerun",
        "Re-run on change",
        tooltip="Re-run on change: a finished pane generates again when a value changes",
    ),
    Binding(
        "e",
        "edit_sampling",
        "Sampling",
        show=False,
        tooltip="Edit every sampling value of the current pane",
    ),
    Binding("a", "add_pane", "Add pane", show=False, tooltip="Add a pane: choose a model"),
    Binding(
        "d",
        "remove_pane",
        "Remove pane",
        show=False,
        tooltip="Remove the current pane (its model is unloaded)",
    ),
    Binding(
        "y",
        "copy_answer",
        "Copy answer",
        show=False,
        tooltip="Copy the current pane's answer (OSC 52, works over SSH)",
    ),
    Binding(
        "c",
        "toggle_comparison",
        "Comparison",
        show=False,
        tooltip="Show or hide the comparison of the last run",
    ),
    Binding(
        "p", "focus_prompt", "Edit prompt", show=False, tooltip="Move the cursor to the prompt"
    ),
    Binding(
        "m",
        "toggle_resources",
        "Machine",
        show=False,
        tooltip="Fold or unfold the machine panel (CPU, RAM, GPUs)",
    ),
]
"""Keys of the workbench screen (run, stop, temperature, panes)."""

APP_BINDINGS: list[Binding] = [
    Binding("f1", "help", "Help"),
    Binding("question_mark", "help", "Help", show=False, key_display="?"),
    Binding("q", "quit_key", "Quit"),
    Binding("ctrl+s", "save_profile", "Save", show=False, tooltip="Save the profile"),
    Binding(
        "S",
        "save_profile_as",
        "Save as",
        show=False,
        tooltip="Save the profile under a new name",
    ),
    Binding(
        "ctrl+o", "open_profile", "Open", show=False, tooltip="Open a saved or bundled profile"
    ),
    Binding(
        "x",
        "export('markdown')",
        "Export",
        show=False,
        tooltip="Export the comparison as Markdown",
    ),
    Binding(
        "v",
        "blind_vote",
        "Blind vote",
        show=False,
        tooltip="Judge this prompt's answers blind, two at a time (names hidden until the vote)",
    ),
]
"""App keys: help, quit, profiles, export, blind vote."""

BUILTIN_BINDINGS: list[Binding] = [
    Binding("ctrl+q", "quit", "Quit (anywhere)"),
    Binding("ctrl+p", "command_palette", "Command palette: every action"),
    Binding("tab,shift+tab", "focus_next", "Move between fields and panes"),
]
"""Keys Textual itself provides, listed in the help for completeness."""

TEXT_FREE_ACTIONS = {"run", "stop", "leave_field"}
"""Screen actions whose keys also work while the cursor is in a text field."""

APP_LETTER_ACTIONS = {"quit_key", "save_profile_as", "export", "blind_vote"}
"""App actions bound to letters: hidden from the footer while a text field has focus."""
