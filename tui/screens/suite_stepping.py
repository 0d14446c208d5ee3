"""The workbench's prompt suite: step through its prompts and run them all.

`SuiteStepper` is composed into `tui.screens.main.WorkbenchScreen`, which it reaches only
through the small `SuiteHost` interface. The suite is the profile's (`[[prompts]]` or
`prompts_file`, read once when the screen mounts; a bad file is one notification and no
suite). `n` / `N` put the next / previous prompt into the prompt editor, whose title says
"prompt 3/12 (id)". "Run suite" runs every prompt from the current one to the end: each
on every pane, the next one when every pane has finished, the panes showing the prompt
being run; stop (escape) ends it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from textual.notifications import SeverityLevel

from tui.widgets.prompt_editor import PromptEditor

if TYPE_CHECKING:
    from profiles.schema import Profile
    from profiles.suite import Suite


class SuiteHost(Protocol):
    """What the stepper needs of the screen it serves."""

    @property
    def profile(self) -> Profile: ...

    def notify(self, message: str, *, severity: SeverityLevel = "information") -> None: ...

    def prompt_editor(self) -> PromptEditor:
        """The prompt editor the suite's prompts are shown in."""
        ...

    def run_prompt(self) -> None:
        """Run the prompt in the editor on every pane."""
        ...

    def idle(self) -> bool:
        """Whether no pane is generating and none is queued."""
        ...


class SuiteStepper:
    """The profile's suite in the workbench: which prompt is shown, and "Run suite"."""

    def __init__(self, host: SuiteHost) -> None:
        self.host = host
        self.suite: Suite | None = None
        """The profile's suite, or None."""
        self.index = 0
        """The prompt shown (0-based)."""
        self.running = False
        """Whether "Run suite" is stepping through the prompts."""
        self.run_id = ""
        """The id that this session's suite answers share in the history."""

    def load(self) -> None:
        """Read the profile's suite (a bad file: a notification, no suite)."""
        from profiles.results import new_result_id
        from profiles.suite import SuiteError, suite_of

        profile = self.host.profile
        self.suite, self.index, self.running = None, 0, False
        self.run_id = new_result_id()
        try:
            self.suite = suite_of(profile, _profile_dir(profile.name))
        except SuiteError as error:
            self.host.notify(str(error), severity="error")
        if self.suite is not None and not profile.prompt.strip():
            self.show_prompt(0)
        self._show_position()

    def record_for(self, plan, finished):
        """The suite tag of a finished answer (None outside the suite's prompts)."""
        return suite_record_for(self.suite, self.run_id, plan, finished)

    def shown_prompt_id(self) -> str | None:
        """The id of the suite prompt shown, or None without a suite."""
        if self.suite is None or not self.suite.prompts:
            return None
        return self.suite.ids[self.index % len(self.suite.prompts)]

    def _show_position(self) -> None:
        editor = self.host.prompt_editor()
        if self.suite is None:
            editor.show_position(None)
            return
        ident = self.suite.ids[self.index]
        count = len(self.suite.prompts)
        running = " · running suite" if self.running else ""
        editor.show_position(f"prompt {self.index + 1}/{count} ({ident}){running}")

    def show_prompt(self, index: int) -> bool:
        """Put prompt `index` into the editor; False when there is no suite."""
        if self.suite is None:
            self.host.notify("this profile has no prompt suite ([[prompts]] or prompts_file)")
            return False
        self.index = index % len(self.suite.prompts)
        prompt = self.suite.prompts[self.index]
        system = prompt.system or self.host.profile.system_prompt
        self.host.prompt_editor().set_texts(prompt.text, system)
        self._show_position()
        return True

    def next_prompt(self) -> None:
        """Show the suite's next prompt in the prompt editor."""
        self.show_prompt(self.index + 1 if self._shown() else self.index)

    def previous_prompt(self) -> None:
        """Show the suite's previous prompt in the prompt editor."""
        self.show_prompt(self.index - 1 if self._shown() else self.index)

    def _shown(self) -> bool:
        """Whether the editor holds the current suite prompt (else n shows it first)."""
        if self.suite is None:
            return False
        return self.host.prompt_editor().prompt == self.suite.prompts[self.index].text

    def run_all(self) -> None:
        """Run every prompt of the suite, from the one shown, on every pane."""
        if not self.show_prompt(self.index):
            return
        self.running = True
        self._show_position()
        self.host.run_prompt()

    def stop(self) -> None:
        """End a suite run (the running prompt is stopped by the caller)."""
        if self.running:
            self.running = False
            self._show_position()

    def next_when_idle(self) -> None:
        """After a pane finished: the next prompt once every pane is idle."""
        if not self.running or self.suite is None or not self.host.idle():
            return
        if self.index + 1 >= len(self.suite.prompts):
            self.running = False
            self._show_position()
            self.host.notify(f"suite {self.suite.name}: every prompt ran")
            return
        self.show_prompt(self.index + 1)
        self.host.run_prompt()


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
