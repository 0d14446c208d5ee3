"""The workbench's prompt suite: step through its prompts and run them all.

A mixin of `tui.screens.main.WorkbenchScreen`. The suite is the profile's (`[[prompts]]`
or `prompts_file`, read once when the screen mounts; a bad file is one notification and
no suite). `n` / `N` put the next / previous prompt into the prompt editor, whose title
says "prompt 3/12 (id)". "Run suite" runs every prompt from the current one to the end:
each on every pane, the next one when every pane has finished, the panes showing the
prompt being run; stop (escape) ends it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tui.widgets.prompt_editor import PromptEditor

if TYPE_CHECKING:
    from profiles.suite import Suite


class SuiteStepping:
    """Suite actions for the workbench screen (which provides panes, the editor and run)."""

    suite: Suite | None = None
    """The profile's suite, or None."""
    suite_index: int = 0
    """The prompt shown (0-based)."""
    suite_running: bool = False
    """Whether "Run suite" is stepping through the prompts."""
    suite_run_id: str = ""
    """The id that this session's suite answers share in the history."""

    def load_suite(self) -> None:
        """Read the profile's suite (a bad file: a notification, no suite)."""
        from profiles.results import new_result_id
        from profiles.suite import SuiteError, suite_of

        self.suite, self.suite_index, self.suite_running = None, 0, False
        self.suite_run_id = new_result_id()
        try:
            self.suite = suite_of(self.profile, _profile_dir(self.profile.name))  # type: ignore[attr-defined]
        except SuiteError as error:
            self.notify(str(error), severity="error")  # type: ignore[attr-defined]
        if self.suite is not None and not self.profile.prompt.strip():  # type: ignore[attr-defined]
            self.show_suite_prompt(0)
        self._show_suite_position()

    def suite_record(self, plan, finished):
        """The suite tag of a finished answer (None outside the suite's prompts)."""
        return suite_record_for(self.suite, self.suite_run_id, plan, finished)

    def _show_suite_position(self) -> None:
        editor = self.query_one(PromptEditor)  # type: ignore[attr-defined]
        if self.suite is None:
            editor.show_position(None)
            return
        ident = self.suite.ids[self.suite_index]
        count = len(self.suite.prompts)
        running = " · running suite" if self.suite_running else ""
        editor.show_position(f"prompt {self.suite_index + 1}/{count} ({ident}){running}")

    def show_suite_prompt(self, index: int) -> bool:
        """Put prompt `index` into the editor; False when there is no suite."""
        if self.suite is None:
            self.notify("this profile has no prompt suite ([[prompts]] or prompts_file)")  # type: ignore[attr-defined]
            return False
        self.suite_index = index % len(self.suite.prompts)
        prompt = self.suite.prompts[self.suite_index]
        system = prompt.system or self.profile.system_prompt  # type: ignore[attr-defined]
        self.query_one(PromptEditor).set_texts(prompt.text, system)  # type: ignore[attr-defined]
        self._show_suite_position()
        return True

    def action_next_prompt(self) -> None:
        """Show the suite's next prompt in the prompt editor."""
        self.show_suite_prompt(self.suite_index + 1 if self._shown() else self.suite_index)

    def action_previous_prompt(self) -> None:
        """Show the suite's previous prompt in the prompt editor."""
        self.show_suite_prompt(self.suite_index - 1 if self._shown() else self.suite_index)

    def _shown(self) -> bool:
        """Whether the editor holds the current suite prompt (else n shows it first)."""
        if self.suite is None:
            return False
        editor = self.query_one(PromptEditor)  # type: ignore[attr-defined]
        return editor.prompt == self.suite.prompts[self.suite_index].text

    def action_run_suite(self) -> None:
        """Run every prompt of the suite, from the one shown, on every pane."""
        if not self.show_suite_prompt(self.suite_index):
            return
        self.suite_running = True
        self._show_suite_position()
        self.action_run()  # type: ignore[attr-defined]

    def stop_suite(self) -> None:
        """End a suite run (the running prompt is stopped by the caller)."""
        if self.suite_running:
            self.suite_running = False
            self._show_suite_position()

    def suite_pane_finished(self) -> None:
        """A pane finished (called by the screen): the next prompt once every pane is idle."""
        if self.suite_running:
            self.call_after_refresh(self._next_when_idle)  # type: ignore[attr-defined]

    def _next_when_idle(self) -> None:
        if not self.suite_running or self.suite is None:
            return
        if any(pane.busy for pane in self.panes) or self._sequential_queue:  # type: ignore[attr-defined]
            return
        if self.suite_index + 1 >= len(self.suite.prompts):
            self.suite_running = False
            self._show_suite_position()
            self.notify(f"suite {self.suite.name}: every prompt ran")  # type: ignore[attr-defined]
            return
        self.show_suite_prompt(self.suite_index + 1)
        self._show_suite_position()
        self.action_run()  # type: ignore[attr-defined]


def _profile_dir(name: str):
    """The folder of the profile named `name`, where a relative prompts_file is read."""
    from profiles.store import locate_profile

    path = locate_profile(name)
    return path.resolve().parent if path is not None else None


def suite_record_for(suite: Suite | None, run_id: str, plan, finished):
    """The `SuiteRecord` of a workbench answer whose prompt is one of the suite's, else None."""
    if suite is None or plan is None:
        return None
    from profiles.checks import run_checks
    from profiles.suite_record import SuiteRecord
    from profiles.suite_run import pane_key

    prompt_text = finished.request.prompt
    for index, (prompt, prompt_id) in enumerate(zip(suite.prompts, suite.ids, strict=True)):
        if prompt.text == prompt_text:
            return SuiteRecord(
                run_id=run_id,
                suite=suite.name,
                digest=suite.digest,
                prompt_id=prompt_id,
                prompt_index=index,
                prompt_count=len(suite.prompts),
                pane_key=pane_key(plan),
                checks=run_checks(prompt.expect, finished.text, finished.stats.generated_tokens),
            )
    return None
