"""The workbench's profile actions: open, save, save as, and the title's unsaved mark.

`ProfileActions` is mixed into `tui.app.WorkbenchApp`, which owns the profile as last
opened or saved; the workbench screen says what the profile is now
(`WorkbenchScreen.current_profile()`). Files are read and written off the UI thread
by `profiles.store`; a profile that does not load or save is a one-line notification.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from profiles.schema import Profile
from tui.screens.main import WorkbenchScreen

if TYPE_CHECKING:
    from textual.app import App

    from profiles.results import RunResult
    from profiles.store import ProfileEntry

    class _WorkbenchHost(App[None]):
        """What the mixin uses of `WorkbenchApp`, for the type checker (at run time: object)."""

        @property
        def workbench(self) -> WorkbenchScreen: ...

        def _new_workbench(self, profile: Profile) -> WorkbenchScreen: ...

else:
    _WorkbenchHost = object

PROFILE_NAME_HINT = "letters, digits, '.', '_' and '-'; at most 64 characters"


class ProfileActions(_WorkbenchHost):
    """Open, save and save-as for the workbench app (a mixin for `WorkbenchApp`)."""

    profile: Profile
    """The profile as last opened or saved (the baseline for the unsaved mark)."""
    profile_path: Path | None
    """Where the profile was last saved, if it was saved in this session."""
    unsaved: bool
    """The profile on screen differs from `profile`; the title shows a `*`."""
    results: dict[int, RunResult]

    # --- title and unsaved changes -----------------------------------------------------

    def _update_title(self) -> None:
        self.title = f"llmbench · {self.profile.name}{' *' if self.unsaved else ''}"

    def on_workbench_screen_edited(self, message: WorkbenchScreen.Edited) -> None:
        try:
            current = self.workbench.current_profile()
        except LookupError:
            return
        self.unsaved = current != same_form(self.profile)
        self._update_title()

    # --- open --------------------------------------------------------------------------

    def action_open_profile(self) -> None:
        """Choose a profile and open it (the current models are unloaded).

        The profiles are read and checked in a thread worker (each file is capped at
        `profiles.store.MAX_PROFILE_BYTES`), so a large or broken file never freezes the UI;
        the dialog opens when the list is ready.
        """
        self.run_worker(
            self._list_for_open, thread=True, group="open", exclusive=True, name="list profiles"
        )

    def _list_for_open(self) -> None:
        from engines.messages import one_line
        from profiles.store import list_profiles

        try:
            entries = list_profiles()
        except Exception as error:  # noqa: BLE001 - a worker's exception would end the app
            self.call_from_thread(
                self.notify, f"cannot list profiles: {one_line(error)}", severity="error"
            )
            return
        self.call_from_thread(self._show_open_dialog, entries)

    def _show_open_dialog(self, entries: list[ProfileEntry]) -> None:
        from tui.screens.open_profile import OpenProfileScreen

        self.push_screen(OpenProfileScreen(entries), self._open_chosen)

    def _open_chosen(self, path: str | None) -> None:
        if path:
            self.run_worker(
                partial(self._load_for_open, path), thread=True, group="open", name="open profile"
            )

    def _load_for_open(self, name_or_path: str) -> None:
        from profiles.errors import ProfileError
        from profiles.store import load_profile

        try:
            profile = load_profile(name_or_path)
        except ProfileError as error:
            self.call_from_thread(self.notify, str(error), severity="error", timeout=10)
            return
        self.call_from_thread(self._show_profile, profile)

    def open_profile(self, name_or_path: str) -> bool:
        """Replace the workbench with this profile. False (with a message) if it does not load."""
        from profiles.errors import ProfileError
        from profiles.store import load_profile

        try:
            profile = load_profile(name_or_path)
        except ProfileError as error:
            self.notify(str(error), severity="error", timeout=10)
            return False
        self._show_profile(profile)
        return True

    def _show_profile(self, profile: Profile) -> None:
        self.workbench.close_all()
        self.profile, self.profile_path, self.unsaved = profile, None, False
        self.results.clear()
        self.switch_screen(self._new_workbench(profile))
        self._update_title()
        self.notify(f"opened {profile.name}")

    # --- save --------------------------------------------------------------------------

    def action_save_profile(self) -> None:
        """Save the profile under its name (a bundled one is saved as your copy)."""
        self.save_profile(self.workbench.current_profile())

    def action_save_profile_as(self) -> None:
        """Save the profile under a new name."""
        from tui.screens.text_prompt import TextPromptScreen

        self.push_screen(
            TextPromptScreen(
                "Save profile as",
                value=self.profile.name,
                hint=PROFILE_NAME_HINT,
                check=profile_name_problem,
            ),
            self._save_as_chosen,
        )

    def _save_as_chosen(self, name: str | None) -> None:
        if name:
            self.save_profile(self.workbench.current_profile().model_copy(update={"name": name}))

    def save_profile(self, profile: Profile) -> None:
        """Save `profile` off the UI thread; the title loses its `*` when it is written."""
        self.run_worker(
            partial(self._save, profile), thread=True, group="save", name="save profile"
        )

    def _save(self, profile: Profile) -> None:
        from profiles.errors import ProfileError
        from profiles.store import save_profile

        try:
            path = save_profile(profile)
        except ProfileError as error:
            self.call_from_thread(self.notify, str(error), severity="error", timeout=10)
            return
        self.call_from_thread(self._saved, profile, path)

    def _saved(self, profile: Profile, path: Path) -> None:
        self.profile, self.profile_path = profile, path
        self.unsaved = self.workbench.current_profile() != same_form(profile)
        self._update_title()
        self.notify(f"saved {profile.name} to {path}")


def same_form(profile: Profile) -> Profile:
    """The profile as the workbench writes it back: pane overrides only where they differ
    from the defaults, an empty system prompt as None (so only real edits count as unsaved)."""
    from profiles.schema import SamplingOverrides

    panes = [
        pane.model_copy(
            update={
                "sampling": SamplingOverrides.between(
                    profile.sampling, pane.sampling_params(profile.sampling)
                )
            }
        )
        for pane in profile.panes
    ]
    return profile.model_copy(
        update={"panes": panes, "system_prompt": profile.system_prompt or None}
    )


def profile_name_problem(name: str) -> str | None:
    """Why `name` cannot name a profile (one line), or None when it can."""
    from pydantic import ValidationError

    from profiles.schema import PaneSpec

    try:
        Profile(name=name, panes=[PaneSpec(model="x")])
    except ValidationError:
        return f"not a profile name: {PROFILE_NAME_HINT}"
    return None
