"""The llmbench workbench: one prompt, several models side by side, what each one costs.

`make_app(profile, engine_factory, ...)` builds the app; the CLI (`tui.launch`) and the
tests use it alike. The app owns what outlives one screen: the profile and its unsaved
mark (opened and saved by its `tui.profile_actions.ProfileActions`), the history of finished
results, exports, the resource sampler, the command palette, help, and a clean exit
(also on SIGHUP, when an SSH session drops, and SIGTERM). The panes and everything done
to them live in `tui.screens.main.WorkbenchScreen`.
"""

from __future__ import annotations

import asyncio
import signal
from collections import Counter
from collections.abc import Callable, Iterable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual.app import App, SystemCommand
from textual.screen import Screen
from textual.widgets import Input, TextArea

from engines.messages import one_line
from engines.types import FINISHED_STOP_REASONS
from profiles.plan import build_plan, open_handle
from profiles.result_recorder import ResultRecorder
from profiles.run_driver import DriverOptions
from profiles.schema import Profile
from tui.blind_vote_action import BlindVoteAction
from tui.fidelity_action import FidelityAction
from tui.keys import (
    APP_BINDINGS,
    APP_LETTER_ACTIONS,
    BUILTIN_BINDINGS,
    PROMPT_BINDINGS,
    WORKBENCH_BINDINGS,
)
from tui.pane_controller import EngineFactory
from tui.profile_actions import ProfileActions
from tui.run_records import ExportFormat, default_export_path, export_results
from tui.screens.main import PlanBuilder, WorkbenchScreen

if TYPE_CHECKING:
    from engines.machine.resources import ProcessSample
    from profiles.result_recorder import Recorded
    from profiles.results import RunResult

QUIT_WAIT_S = 10.0
"""The longest quitting waits for model workers to end and history writes to finish."""


class WorkbenchApp(App[None]):
    """Compare language models side by side."""

    CSS_PATH = "app.tcss"
    TITLE = "llmbench"
    ENABLE_COMMAND_PALETTE = True

    BINDINGS = list(APP_BINDINGS)  # a list of BindingType, as Textual declares it
    """App keys (see `tui.keys`)."""

    def __init__(
        self,
        profile: Profile,
        engine_factory: EngineFactory,
        plan_builder: PlanBuilder,
        recorder: ResultRecorder,
        resource_sampler: Any = None,
        driver_options: DriverOptions | None = None,
    ) -> None:
        super().__init__()
        self.profile = profile
        """The profile as last opened or saved (the baseline for the unsaved mark)."""
        self.profile_actions = ProfileActions(self)
        """Open, save, save as, delete and restore, and the title's unsaved mark."""
        self.engine_factory = engine_factory
        self.plan_builder = plan_builder
        self.recorder = recorder
        self.driver_options = driver_options or DriverOptions()
        """How each pane's model is driven (the same as headless runs)."""
        self.resource_sampler = resource_sampler
        """The `engines.machine.resources.ResourceSampler` feeding the resource panel, or None."""
        self.results: dict[int, RunResult] = {}
        """The latest finished result of each pane (pane id → result), for exports."""
        self.suite_results: dict[tuple[int, str], RunResult] = {}
        """The latest answer of each pane to each suite prompt, for the quality view."""
        self.fidelity = FidelityAction(self)
        """The "Measure fidelity" palette action (`tui.fidelity_action`)."""
        self.blind_vote = BlindVoteAction(self, write=recorder.history)
        """The "Blind vote" action and the session's vote log (`tui.blind_vote_action`)."""

    # --- start and stop -----------------------------------------------------------------

    def on_mount(self) -> None:
        if self.resource_sampler is not None:
            self.resource_sampler.start()
        self._install_hangup_handler()
        self.push_screen(self.new_workbench(self.profile))
        self.profile_actions.update_title()

    def new_workbench(self, profile: Profile) -> WorkbenchScreen:
        """A workbench screen for `profile`, its panes driven as this app's panes are."""
        return WorkbenchScreen(
            profile,
            self.engine_factory,
            self.plan_builder,
            process_figures=self._process_figures if self.resource_sampler is not None else None,
            driver_options=self.driver_options,
            resume_suites=self.recorder.history,
        )

    @property
    def workbench(self) -> WorkbenchScreen:
        """The workbench screen (under any modal)."""
        for screen in reversed(self.screen_stack):
            if isinstance(screen, WorkbenchScreen):
                return screen
        raise LookupError("the workbench screen is not open")

    def _install_hangup_handler(self) -> None:
        """Quit cleanly when the terminal goes away (SIGHUP: an SSH session drops) or when
        asked to end (SIGTERM)."""
        for signum in _quit_signals():
            try:
                asyncio.get_running_loop().add_signal_handler(signum, self._hung_up)
            except (NotImplementedError, RuntimeError, ValueError):
                pass
        # Textual can block for good writing to a terminal that is gone (tui/hangup.py).
        from tui.hangup import install_exit_watchdog

        install_exit_watchdog(
            _quit_signals(), grace_s=QUIT_WAIT_S + 5, loop=asyncio.get_running_loop()
        )

    def _hung_up(self) -> None:
        self.call_later(self.action_quit)

    async def action_quit(self) -> None:
        """Stop every model worker and let pending history writes finish, then exit."""
        try:
            self.workbench.close_all()
        except LookupError:
            pass
        pending = [worker for worker in self.workers if worker.group in ("history", "close")]
        if pending:
            try:
                await asyncio.wait_for(self.workers.wait_for_complete(pending), QUIT_WAIT_S)
            except TimeoutError:
                pass
        self.exit()

    async def action_quit_key(self) -> None:
        """Quit (the `q` key, outside text fields)."""
        await self.action_quit()

    def on_unmount(self) -> None:
        try:
            for pane in self.workbench.panes:
                pane.close()  # quick when quit already closed it; the last resort otherwise
        except LookupError:
            pass
        if self.resource_sampler is not None:
            self.resource_sampler.stop()
        for signum in _quit_signals():
            try:
                asyncio.get_running_loop().remove_signal_handler(signum)
            except (NotImplementedError, RuntimeError, ValueError):
                pass

    # --- profiles (`tui.profile_actions`) --------------------------------------------------

    def on_workbench_screen_edited(self, message: WorkbenchScreen.Edited) -> None:
        self.profile_actions.edited()

    def open_profile(self, name_or_path: str) -> bool:
        """Replace the workbench with this profile. False (with a message) if it does not load."""
        return self.profile_actions.open_profile(name_or_path)

    def action_open_profile(self) -> None:
        """Choose a profile and open it (the current models are unloaded)."""
        self.profile_actions.choose_and_open()

    def action_save_profile(self) -> None:
        """Save the profile under its name (a bundled one is saved as your copy)."""
        self.profile_actions.save()

    def action_save_profile_as(self) -> None:
        """Save the profile under a new name."""
        self.profile_actions.save_as()

    def action_delete_profile(self) -> None:
        """Choose one of your saved profiles and delete it (after asking)."""
        self.profile_actions.delete()

    def action_restore_profile(self) -> None:
        """Choose a bundled profile that your copy hides, and remove your copy."""
        self.profile_actions.restore()

    # --- resources ----------------------------------------------------------------------

    def _process_figures(self, pid: int) -> ProcessSample | None:
        """The worker `pid`'s latest sample (RSS, CPU, GPU memory), watched from now on."""
        sampler = self.resource_sampler
        if pid not in sampler.watched:
            sampler.watch(pid, f"worker {pid}")
        sample = sampler.latest()
        return sample.processes.get(pid) if sample is not None else None

    # --- history ---------------------------------------------------------------------------

    def on_workbench_screen_pane_finished(self, message: WorkbenchScreen.PaneFinished) -> None:
        controller = message.pane.controller
        finished = controller.finished if controller is not None else None
        if controller is None or finished is None or finished.info is None:
            return
        try:
            suite = self.workbench.suite.record_for(controller.plan, finished)
        except LookupError:  # its screen closed (another profile opened): a run of the past
            return
        record = partial(
            self.recorder.record,
            controller.plan,
            finished,
            mode=self.profile.mode,
            profile_name=self.profile.name,
            suite=suite,
            # Cancelled, failed and crashed runs are exported with their stop reason (as
            # the comparison table shows them), never kept as finished results.
            to_history=finished.stats.stop_reason in KEPT_STOP_REASONS,
        )
        self.run_worker(
            partial(self._record, message.pane.pane_id, record),
            thread=True,
            group="history",
            name="record result",
        )

    def action_show_quality(self) -> None:
        """Show the quality × cost table of this session's suite answers."""
        from tui.screens.quality_view import QualityScreen

        results = list(self.suite_results.values())
        if not results:
            self.notify("no suite answers yet: run the suite first (R)", severity="warning")
            return
        standings = self.blind_vote.standings()
        self.push_screen(QualityScreen(results, standings, mode=self.profile.mode))

    def _record(self, pane_id: int, record: Callable[[], Recorded]) -> None:
        """Make the result (off the UI thread); it is kept even when the history cannot take it."""
        try:
            recorded = record()
        except Exception as exc:  # noqa: BLE001 - a result that cannot be made is told, not raised
            self.call_from_thread(
                self.notify, f"could not keep the result: {one_line(exc)}", severity="error"
            )
            return
        self.call_from_thread(self.results.__setitem__, pane_id, recorded.result)
        finished = recorded.result.figures.stop_reason in KEPT_STOP_REASONS
        if recorded.result.suite is not None and finished:  # quality: finished answers only
            key = (pane_id, recorded.result.suite.prompt_id)
            self.call_from_thread(self.suite_results.__setitem__, key, recorded.result)
        if recorded.warning:
            self.call_from_thread(self.notify, recorded.warning, severity="warning", timeout=10)

    # --- export and help -------------------------------------------------------------------

    def action_export(self, fmt: ExportFormat = "markdown", path: str | None = None) -> None:
        """Export the latest results of every pane (Markdown or JSON) to a file."""
        results = [
            self.results[pane.pane_id]
            for pane in self.workbench.panes
            if pane.pane_id in self.results
        ]
        if not results:
            self.notify("nothing to export yet: run the prompt first", severity="warning")
            return
        target = Path(path) if path else default_export_path(self.profile.name, fmt)
        self.run_worker(partial(self._export, results, target, fmt), thread=True, group="export")

    def _export(self, results: list[RunResult], target: Path, fmt: ExportFormat) -> None:
        try:
            written = export_results(results, target, fmt)
        except OSError as error:
            self.call_from_thread(
                self.notify, f"could not export: {error.strerror or error}", severity="error"
            )
            return
        self.call_from_thread(self.notify, export_message(results, written), timeout=8)

    def action_export_to(self, fmt: ExportFormat) -> None:
        """Ask for a path, then export there."""
        from tui.screens.text_prompt import TextPromptScreen

        default = default_export_path(self.profile.name, fmt)
        self.push_screen(
            TextPromptScreen(f"Export {fmt} to", value=str(default)),
            lambda chosen: self.action_export(fmt, chosen) if chosen else None,
        )

    def action_blind_vote(self) -> None:
        """Judge this prompt's answers blind, two at a time (`tui.blind_vote_action`)."""
        self.blind_vote.start()

    def action_help(self) -> None:
        """Show every key binding."""
        from tui.screens.help import HelpScreen

        if any(isinstance(screen, HelpScreen) for screen in self.screen_stack):
            return
        self.push_screen(
            HelpScreen(
                [
                    ("panes", WORKBENCH_BINDINGS),
                    ("prompt", PROMPT_BINDINGS),
                    ("app", APP_BINDINGS + BUILTIN_BINDINGS),
                ]
            )
        )

    def action_measure_fidelity(self) -> None:
        """Perplexity of every pane, KLD and top-1 % against the reference."""
        self.fidelity.start()

    def action_cancel_fidelity(self) -> None:
        """Stop the fidelity run within one window."""
        self.fidelity.cancel()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in APP_LETTER_ACTIONS and isinstance(self.focused, TextArea | Input):
            return False
        return True

    # --- command palette -------------------------------------------------------------------

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        from tui.palette import workbench_commands

        yield from super().get_system_commands(screen)
        try:
            yield from workbench_commands(self)
        except LookupError:
            return


def export_message(results: list[RunResult], written: object) -> str:
    """ "exported 3 results (1 cancelled, 1 error) to PATH": one per row of the table."""
    unfinished = Counter(
        r.figures.stop_reason for r in results if r.figures.stop_reason not in KEPT_STOP_REASONS
    )
    detail = ", ".join(f"{count} {reason}" for reason, count in sorted(unfinished.items()))
    noun = "result" if len(results) == 1 else "results"
    return f"exported {len(results)} {noun}" + (f" ({detail})" if detail else "") + f" to {written}"


KEPT_STOP_REASONS = FINISHED_STOP_REASONS
"""Generations that count as finished results (kept in the history; all are exported)."""


def _quit_signals() -> list[signal.Signals]:
    """The signals that quit the workbench cleanly, where the platform has them."""
    return [getattr(signal, name) for name in ("SIGHUP", "SIGTERM") if hasattr(signal, name)]


def make_app(
    profile: Profile,
    engine_factory: EngineFactory = open_handle,
    *,
    plan_builder: PlanBuilder = build_plan,
    history: bool = True,
    hash_files: bool = True,
    resource_sampler: Any = "auto",
    driver_options: DriverOptions | None = None,
    recorder: ResultRecorder | None = None,
) -> WorkbenchApp:
    """Build the workbench for `profile`.

    `engine_factory` opens each pane's ModelHandle (tests pass fakes); `plan_builder`
    resolves the model references; `history` appends every finished result to the
    history file; `resource_sampler` feeds the resource panel and the panes' process
    figures ("auto": a new `ResourceSampler`, None: no sampling); `driver_options` how each
    pane's model is driven (default: config.toml's deadline); `recorder` makes the results
    (default: from `history` and `hash_files`).
    """
    if resource_sampler == "auto":
        from engines.machine.resources import ResourceSampler

        resource_sampler = ResourceSampler(interval_s=1.0)
    return WorkbenchApp(
        profile,
        engine_factory,
        plan_builder,
        recorder or ResultRecorder(history=history, hash_files=hash_files),
        resource_sampler,
        driver_options or DriverOptions.from_config(),
    )
