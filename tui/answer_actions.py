"""The workbench's actions on the panes' answers: copy (`y`), Markdown (`M`), the token view
(`v`) and where answers part (`w`).

Kept out of `tui.screens.main` so the screen only forwards the keys here, with its
`PaneGrid`.
"""

from __future__ import annotations

from profiles.divergence import find_divergence
from tui.widgets.pane_grid import PaneGrid


def copy_answer(grid: PaneGrid) -> None:
    """Copy the current pane's answer to the clipboard (OSC 52: works over SSH)."""
    pane = grid.current_pane
    if pane is None or not pane.answer:
        grid.notify("nothing to copy yet", severity="warning")
        return
    grid.app.copy_to_clipboard(pane.answer)
    grid.notify(f"copied {len(pane.answer)} characters of {pane.label}'s answer")


async def toggle_markdown(grid: PaneGrid) -> None:
    """Show the current pane's finished answer as Markdown, or back as text."""
    pane = grid.current_pane
    if pane is None:
        return
    reason = await pane.toggle_markdown()
    if reason:
        grid.notify(reason, severity="warning")


def toggle_token_view(grid: PaneGrid) -> None:
    """Show every pane's answer as coloured tokens with a cursor, or as text again; the
    current pane's token view takes the keys."""
    panes = grid.panes
    current = grid.current_pane
    if not panes or current is None:
        return
    on = not current.answer_area.tokens_on
    for pane in panes:
        pane.answer_area.show_tokens(on)
    if on:
        current.focus_answer()
        unavailable = current.answer_area.tokens_unavailable()
        if unavailable:
            grid.notify(unavailable, severity="warning")


def show_answer_parting(grid: PaneGrid) -> None:
    """Mark where the panes' answers to one prompt part, and show their candidates there."""
    from tui.screens.answer_parting import AnswerPartingScreen

    answered = [
        (pane, pane.controller, pane.controller.request)
        for pane in grid.panes
        if pane.controller is not None
        and pane.controller.request is not None
        and pane.answer_area.token_records
        and not pane.busy
    ]
    prompts = {(request.prompt, request.system_prompt) for _, _, request in answered}
    if len(answered) < 2 or len(prompts) != 1:
        grid.notify(
            "answers part only between two or more finished panes with token probabilities, "
            "on the same prompt: run it first (ctrl+r)",
            severity="warning",
        )
        return
    paths = {(controller.plan.kind, controller.plan.settings.path) for _, controller, _ in answered}
    same_model = len(paths) == 1 and next(iter(paths))[0] == "local"
    divergence = find_divergence(
        [pane.answer_area.token_records for pane, _, _ in answered], same_vocabulary=same_model
    )
    if divergence is None:
        grid.notify("the answers are the same, token for token")
        return
    for (pane, _, _), parting in zip(answered, divergence.partings, strict=True):
        pane.answer_area.show_tokens(True)
        pane.answer_area.tokens.view.set_parting(parting.token_index)
    panes = [(pane.label, pane.sampling.temperature) for pane, _, _ in answered]
    grid.app.push_screen(AnswerPartingScreen(divergence, panes))
