"""The workbench's prompt suite: step through its prompts and run them all.

`SuiteStepper` is composed into `tui.screens.main.WorkbenchScreen`, which it reaches only
through the small `SuiteHost` interface. The suite is the profile's (`[[prompts]]` or
`prompts_file`, read once when the screen mounts; a bad file is one notification and no
suite). `n` / `N` put the next / previous prompt into the prompt editor, whose title says
"prompt 3/12 (id)". "Run suite" runs every prompt from the current one to the end: each
on every pane, the next one when every pane has finished, the panes showing the prompt
being run; stop (escape) ends it.

An unfinished run of the suite in the history (same suite, profile and panes; a run that
was stopped, or ended with the workbench) is resumed by "Run suite", as `llmbench run
--prompts` does: only the missing answers run, from the first prompt with one missing, on
the panes missing it, under the run's id (the quality view stays this session's answers).
"Run suite afresh" starts a new run from the first prompt. Without a history
(`--no-history`) nothing is resumed.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import TYPE_CHECKING, Any, Protocol

from textual.notifications import SeverityLevel

from tui.widgets.prompt_editor import PromptEditor

if TYPE_CHECKING:
    from profiles.plan import PanePlan
    from profiles.schema import Profile
    from profiles.suite import Suite


class SuiteHost(Protocol):
    """What the stepper needs of the screen it serves."""

    @property
    def profile(self) -> Profile: ...

    def notify(self, message: str, *, severity: SeverityLevel = "information") -> None: ...

    def run_prompt(self, only: Collection[str] | None = None) -> None:
        """Run the prompt in the editor on every pane, or on those whose `pane_key` is in
        `only`."""
        ...

    def plans(self) -> list[PanePlan]:
        """The plans of the panes whose models are resolved."""
        ...

    def in_thread(self, work: Callable[[], Any], then: Callable[[Any], None]) -> None:
        """Run `work` off the UI thread, then `then` with its result on the UI thread."""
        ...

    def idle(self) -> bool:
        """Whether no pane is generating and none is queued."""
        ...


class SuiteStepper:
    """The profile's suite in the workbench: which prompt is shown, and "Run suite"."""

    editor: PromptEditor
    """The prompt editor the suite's prompts are shown in (given to `load`)."""

    def __init__(self, host: SuiteHost, *, resume: bool = True) -> None:
        """`resume`: look in the history for an unfinished run to resume (off without one)."""
        self.host = host
        self.resume = resume
        self.suite: Suite | None = None
        """The profile's suite, or None."""
        self.index = 0
        """The prompt shown (0-based)."""
        self.running = False
        """Whether "Run suite" is stepping through the prompts."""
        self.run_id = ""
        """The id that this session's suite answers share in the history."""
        self._queue: list[int] = []
        """The prompts (by index) the suite run still has to run, in order."""
        self._only: dict[int, set[str]] | None = None
        """For a resumed run: per prompt, the panes (`pane_key`) still to answer it."""

    def load(self, editor: PromptEditor) -> None:
        """Read the profile's suite (a bad file: a notification, no suite), to be shown in
        `editor`."""
        self.editor = editor
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
        editor = self.editor
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
        self.editor.set_texts(prompt.text, system)
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
        return self.editor.prompt == self.suite.prompts[self.index].text

    def run_all(self, *, fresh: bool = False) -> None:
        """Run the suite on every pane: resume its unfinished run in the history, else
        every prompt from the one shown. `fresh`: a new run, from the first prompt."""
        suite = self.suite
        if suite is None:
            self.show_prompt(0)  # says there is no suite
            return
        if fresh:
            from profiles.results import new_result_id

            self.run_id = new_result_id()
            self._start(list(range(len(suite.prompts))))
            return
        if not self.resume:
            self._start(list(range(self.index, len(suite.prompts))))
            return
        plans = self.host.plans()
        profile = self.host.profile

        def look_up() -> tuple[Any, dict[int, set[str]], str]:
            """(the run to resume or None, its answers left, what went wrong reading)."""
            from engines.messages import one_line
            from profiles.history import read_history
            from profiles.suite_run import answers_left, plan_suite_run

            try:
                history, warnings = read_history()
                run = plan_suite_run(suite, plans, profile_name=profile.name, history=history)
                left = answers_left(run, plans)
            except Exception as error:  # noqa: BLE001 - the suite still runs, without resuming
                return None, {}, f"cannot look for a run to resume: {one_line(error)}"
            if not warnings:
                return run, left, ""
            more = f" (and {len(warnings) - 1} more)" if len(warnings) > 1 else ""
            return run, left, warnings[0] + more

        self.host.in_thread(look_up, self._resume_or_start)

    def _resume_or_start(self, found: tuple[Any, dict[int, set[str]], str]) -> None:
        run, left, problem = found
        suite = self.suite
        if suite is None or self.running or (run is not None and run.suite is not suite):
            return  # another profile opened, or a run started meanwhile
        if problem:
            self.host.notify(f"history: {problem}", severity="warning")
        if run is None or not run.resumed or not left:
            self._start(list(range(self.index, len(suite.prompts))))
            return
        self.run_id = run.run_id
        queue = sorted(left)
        answers = sum(len(panes) for panes in left.values())
        self.host.notify(
            f"resuming suite run {run.run_id}: {answers} answers left, from prompt "
            f"{queue[0] + 1}/{len(suite.prompts)} ('Run suite afresh' starts a new run)"
        )
        self._start(queue, left)

    def _start(self, queue: list[int], only: dict[int, set[str]] | None = None) -> None:
        self._queue, self._only = queue, only
        self.running = True
        self._run_next()

    def _run_next(self) -> None:
        index = self._queue.pop(0)
        self.show_prompt(index)
        self.host.run_prompt(self._only.get(index) if self._only is not None else None)

    def stop(self) -> None:
        """End a suite run (the running prompt is stopped by the caller)."""
        self._queue.clear()
        if self.running:
            self.running = False
            self._show_position()

    def next_when_idle(self) -> None:
        """After a pane finished: the next prompt once every pane is idle."""
        if not self.running or self.suite is None or not self.host.idle():
            return
        if not self._queue:
            self.running = False
            self._show_position()
            self.host.notify(f"suite {self.suite.name}: every prompt ran")
            return
        self._run_next()


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
