"""Every action of the workbench, in one table: its keys, its words, whether it is shown.

The screens' and the app's `BINDINGS`, the help screen and the command palette
(`tui.palette`) are all derived from these tuples, so a key, a footer label and a palette
entry cannot drift apart. Keys that terminals deliver over SSH were chosen (ctrl+r and F5
run, escape and F6 stop; ctrl+enter alone would not reach the app in many terminals).
Letter keys are not priority bindings: while the cursor is in a text field the letter is
typed, and escape leaves the field. What one row is, and how its bindings and key names
are derived, is `tui.action_spec`.
"""

from __future__ import annotations

from textual.binding import Binding, BindingType

from tui.action_spec import Action, bindings_of

WORKBENCH_ACTIONS: tuple[Action, ...] = (
    Action(
        "ctrl+r",
        "run",
        "Run",
        "Run the prompt on every pane",
        show=True,
        title="Run",
        priority=True,
        more_keys="f5",
    ),
    Action(
        "escape",
        "stop",
        "Stop",
        "Stop every pane's generation",
        show=True,
        title="Stop",
        priority=True,
        more_keys="f6",
    ),
    Action("escape", "leave_field", "Leave field", "Leave the text field", priority=True),
    Action(
        "left_square_bracket",
        "nudge_temperature",
        "T−",
        "Lower the temperature by 0.1 (current pane, or all when linked)",
        show=True,
        title="Temperature down",
        args=(-0.1,),
        key_display="[",
    ),
    Action(
        "right_square_bracket",
        "nudge_temperature",
        "T+",
        "Raise the temperature by 0.1 (current pane, or all when linked)",
        show=True,
        title="Temperature up",
        args=(0.1,),
        key_display="]",
    ),
    Action(
        "t",
        "type_temperature",
        "Set T",
        "Type an exact temperature for the current pane (enter applies it and returns)",
    ),
    Action(
        "",
        "ask_temperature",
        "Set temperature",
        "Type an exact temperature for the current pane (or all, when linked)",
        title="Set temperature…",
    ),
    Action(
        "l",
        "toggle_link",
        "Link T",
        "Link temperatures: changes move every pane together",
        show=True,
        title="Link temperatures",
    ),
    Action(
        "r",
        "toggle_rerun",
        "Re-run on change",
        "Re-run on change: a finished pane generates again when a value changes",
        show=True,
        title="Re-run on change",
    ),
    Action(
        "e",
        "edit_sampling",
        "Sampling",
        "Edit every sampling value of the current pane",
        title="Edit sampling…",
    ),
    Action("a", "add_pane", "Add pane", "Add a pane: choose a model", title="Add pane…"),
    Action(
        "d",
        "remove_pane",
        "Remove pane",
        "Remove the current pane (its model is unloaded)",
        title="Remove pane",
    ),
    Action(
        "y",
        "copy_answer",
        "Copy answer",
        "Copy the current pane's answer (OSC 52, works over SSH)",
        title="Copy answer",
    ),
    Action(
        "c",
        "toggle_comparison",
        "Comparison",
        "Show or hide the comparison of the last run",
        title="Show or hide comparison",
    ),
    Action(
        "n",
        "next_prompt",
        "Next prompt",
        "Show the suite's next prompt in the prompt editor",
        title="Next prompt",
    ),
    Action(
        "N",
        "previous_prompt",
        "Previous prompt",
        "Show the suite's previous prompt in the prompt editor",
        title="Previous prompt",
    ),
    Action(
        "R",
        "run_suite",
        "Run suite",
        "Run the suite on every pane: its unfinished run resumed, else every prompt from "
        "the one shown",
        title="Run suite",
    ),
    Action(
        "",
        "run_suite",
        "Run suite afresh",
        "Run the whole suite as a new run, from the first prompt, on every pane",
        title="Run suite afresh",
        args=(True,),
    ),
    Action(
        "p", "focus_prompt", "Edit prompt", "Move the cursor to the prompt", title="Edit prompt"
    ),
    Action(
        "M",
        "toggle_markdown",
        "Markdown",
        "Current pane: finished answer as Markdown, or raw text",
        title="Show the answer as Markdown or raw text",
    ),
    Action(
        "m",
        "toggle_resources",
        "Machine",
        "Fold or unfold the machine panel (CPU, RAM, GPUs)",
        title="Fold or unfold the machine panel",
    ),
    Action(
        "v",
        "toggle_token_view",
        "Tokens",
        "Token view: answers coloured by each token's probability; arrows or a click pick "
        "a token, its candidates and the temperature lens show below",
        title="Token view",
    ),
    Action(
        "w",
        "answer_parting",
        "Where answers part",
        "Where answers part: the first token where the panes' answers differ, and each "
        "pane's candidates there",
        title="Where answers part",
    ),
)
"""Actions of the workbench screen (run, stop, temperature, panes)."""

APP_ACTIONS: tuple[Action, ...] = (
    Action("f1", "help", "Help", "Every key binding", show=True, title="Help: keys"),
    Action("question_mark", "help", "Help", "Every key binding", key_display="?"),
    Action("q", "quit_key", "Quit", "Quit (outside text fields)", show=True),
    Action("ctrl+s", "save_profile", "Save", "Save the profile", title="Save profile"),
    Action(
        "S",
        "save_profile_as",
        "Save as",
        "Save the profile under a new name (it becomes the current profile)",
        title="Save profile as…",
    ),
    Action(
        "ctrl+o",
        "open_profile",
        "Open",
        "Open a saved or bundled profile",
        title="Open profile…",
    ),
    Action(
        "",
        "delete_profile",
        "Delete profile",
        "Delete one of your saved profiles (bundled ones cannot be deleted)",
        title="Delete saved profile…",
    ),
    Action(
        "",
        "restore_profile",
        "Restore bundled profile",
        "Remove your copy of a bundled profile, so the bundled one shows again",
        title="Restore bundled profile…",
    ),
    Action(
        "x",
        "export",
        "Export",
        "Export the comparison to a Markdown file in the current folder",
        title="Export Markdown",
        args=("markdown",),
    ),
    Action(
        "",
        "export",
        "Export JSON",
        "Export the comparison to a JSON file in the current folder",
        title="Export JSON",
        args=("json",),
    ),
    Action(
        "",
        "export_to",
        "Export Markdown to",
        "Choose where to write the Markdown export",
        title="Export Markdown to…",
        args=("markdown",),
    ),
    Action(
        "",
        "export_to",
        "Export JSON to",
        "Choose where to write the JSON export",
        title="Export JSON to…",
        args=("json",),
    ),
    Action(
        "",
        "export",
        "Export llama-bench JSON",
        "Export llama-bench JSON records (for llama.cpp's compare-llama-bench.py) here",
        title="Export llama-bench JSON",
        args=("llama-bench",),
    ),
    Action(
        "",
        "export_to",
        "Export llama-bench JSON to",
        "Choose where to write the llama-bench JSON export",
        title="Export llama-bench JSON to…",
        args=("llama-bench",),
    ),
    Action(
        "",
        "measure_fidelity",
        "Measure fidelity",
        "Perplexity of every pane, KLD and top-1 % against the reference (bundled text)",
        title="Measure fidelity",
    ),
    Action(
        "",
        "cancel_fidelity",
        "Cancel fidelity",
        "Stop the fidelity run within one window",
        title="Cancel fidelity",
    ),
    Action(
        "",
        "show_quality",
        "Quality × cost",
        "Checks passed, votes and cost per pane over this session's suite answers",
        title="Quality × cost",
    ),
    Action(
        "B",
        "blind_vote",
        "Blind vote",
        "Judge this prompt's answers as A and B, names and figures hidden until you vote",
        title="Blind vote",
    ),
)
"""App actions: help, quit, profiles, export, fidelity, the suite's quality view, blind vote."""

PROMPT_ACTIONS: tuple[Action, ...] = (
    Action("ctrl+a", "select_all", "Select all", "Select the whole prompt", show=True),
    Action(
        "ctrl+l", "clear_prompt", "Clear", "Empty the prompt (ctrl+z brings it back)", show=True
    ),
)
"""Keys of the prompt field (they replace TextArea's ctrl+a, "start of line": home does that)."""

BLIND_VOTE_ACTIONS: tuple[Action, ...] = (
    Action("a", "vote", "A better", "Vote: answer A is better", show=True, args=("a",)),
    Action("b", "vote", "B better", "Vote: answer B is better", show=True, args=("b",)),
    Action("t", "vote", "Tie", "Vote: the two answers are as good", show=True, args=("tie",)),
    Action("x", "vote", "Both bad", "Vote: neither answer is good", show=True, args=("both_bad",)),
    Action("n", "next_pair", "Next pair", "Judge the next pair", show=True, more_keys="space"),
    Action("escape", "close", "Back", "Back to the workbench", show=True),
)
"""Keys of the blind vote screen (`tui.screens.blind_vote`)."""

BUILTIN_BINDINGS: list[BindingType] = [
    Binding("ctrl+q", "quit", "Quit (anywhere)"),
    Binding("ctrl+p", "command_palette", "Command palette: every action"),
    Binding("tab,shift+tab", "focus_next", "Move between fields and panes"),
]
"""Keys Textual itself provides, listed in the help for completeness."""

WORKBENCH_BINDINGS = bindings_of(WORKBENCH_ACTIONS)
"""The workbench screen's bindings."""
APP_BINDINGS = bindings_of(APP_ACTIONS)
"""The app's bindings."""
PROMPT_BINDINGS = bindings_of(PROMPT_ACTIONS)
"""The prompt field's bindings."""
BLIND_VOTE_BINDINGS = bindings_of(BLIND_VOTE_ACTIONS)
"""The blind vote screen's bindings."""

TEXT_FREE_ACTIONS = {"run", "stop", "leave_field"}
"""Screen actions whose keys also work while the cursor is in a text field."""

APP_LETTER_ACTIONS = {"quit_key", "save_profile_as", "export", "blind_vote"}
"""App actions bound to letters: hidden from the footer while a text field has focus."""
