"""One run of the prompt on the workbench's panes: the prompt it runs, the panes still waiting.

`RunQueue` is composed into `tui.screens.main.WorkbenchScreen`. A run keeps the prompt and
system prompt as they were when it started, so every pane of it runs that prompt, even one
that starts after the editor changed (sequential mode, a re-run on change). In sequential
mode the panes run one after another: each finished pane starts the next, and a pane whose
model did not resolve is passed over.
"""

from __future__ import annotations

from collections.abc import Sequence

from tui.pane_controller import PaneState, RunOutcome
from tui.widgets.model_pane import ModelPane


class RunQueue:
    """The current run's prompt and, in sequential mode, the panes waiting their turn."""

    def __init__(self) -> None:
        self._waiting: list[ModelPane] = []
        self._prompt: tuple[str, str | None] = ("", None)
        """The prompt and system prompt of the current run, as they were when it started."""

    def idle(self, panes: Sequence[ModelPane]) -> bool:
        """Whether no pane is busy (generating, or holding a queued run) and none waits."""
        return not self._waiting and not any(pane.busy for pane in panes)

    def over(self, panes: Sequence[ModelPane]) -> bool:
        """Whether no pane is generating and none waits: the run's figures are all in."""
        generating = any(pane.state is PaneState.GENERATING for pane in panes)
        return not generating and not self._waiting

    def start(
        self,
        panes: Sequence[ModelPane],
        prompt: str,
        system_prompt: str | None,
        *,
        sequential: bool,
    ) -> None:
        """Run `prompt` on the panes not generating already: all at once, or (sequential)
        the first now and the others in turn."""
        runnable = [pane for pane in panes if pane.state is not PaneState.GENERATING]
        self._prompt = (prompt, system_prompt)
        if sequential:
            self._waiting = runnable[1:]
            runnable = runnable[:1]
        for pane in runnable:
            self.run(pane)

    def run(self, pane: ModelPane) -> None:
        """Run the current run's prompt on `pane` (the next waiting one if it cannot run)."""
        outcome = pane.run(*self._prompt)
        if outcome is RunOutcome.UNRUNNABLE and self._waiting:
            self.run(self._waiting.pop(0))

    def run_next(self) -> None:
        """A pane finished: run the next waiting one, if any."""
        if self._waiting:
            self.run(self._waiting.pop(0))

    def drop(self, pane: ModelPane) -> None:
        """A removed pane waits no more."""
        if pane in self._waiting:
            self._waiting.remove(pane)

    def stop(self, panes: Sequence[ModelPane]) -> None:
        """Stop every pane's generation (or its queued run); no pane waits any more."""
        self._waiting.clear()
        for pane in panes:
            pane.stop()
