"""The workbench's token actions: the token view (`v`) and where answers part (`w`).

Kept out of `tui.screens.main` so the screen only forwards the two keys here.
"""

from __future__ import annotations

from typing import Any

from profiles.divergence import find_divergence

WorkbenchScreen = Any
"""`tui.screens.main.WorkbenchScreen` (not imported: the screen imports this module)."""


def toggle_token_view(screen: WorkbenchScreen) -> None:
    """Show every pane's answer as coloured tokens with a cursor, or as text again; the
    current pane's token view takes the keys."""
    panes = screen.panes
    current = screen.current_pane
    if not panes or current is None:
        return
    on = not current.answer_area.tokens_on
    for pane in panes:
        pane.answer_area.show_tokens(on)
    if on:
        current.focus_answer()
        unavailable = current.answer_area.tokens_unavailable()
        if unavailable:
            screen.notify(unavailable, severity="warning")


def show_answer_parting(screen: WorkbenchScreen) -> None:
    """Mark where the panes' answers to one prompt part, and show their candidates there."""
    from tui.screens.answer_parting import AnswerPartingScreen

    answered = [
        pane
        for pane in screen.panes
        if pane.controller is not None
        and pane.controller.request is not None
        and pane.answer_area.token_records
        and not pane.busy
    ]
    prompts = {(p.controller.request.prompt, p.controller.request.system_prompt) for p in answered}
    if len(answered) < 2 or len(prompts) != 1:
        screen.notify(
            "answers part only between two or more finished panes with token probabilities, "
            "on the same prompt: run it first (ctrl+r)",
            severity="warning",
        )
        return
    paths = {(p.controller.plan.kind, p.controller.plan.settings.path) for p in answered}
    same_model = len(paths) == 1 and next(iter(paths))[0] == "local"
    divergence = find_divergence(
        [pane.answer_area.token_records for pane in answered], same_vocabulary=same_model
    )
    if divergence is None:
        screen.notify("the answers are the same, token for token")
        return
    for pane, parting in zip(answered, divergence.partings, strict=True):
        pane.answer_area.show_tokens(True)
        pane.answer_area.tokens.view.set_parting(parting.token_index)
    panes = [(pane.label, pane.sampling.temperature) for pane in answered]
    screen.app.push_screen(AnswerPartingScreen(divergence, panes))
