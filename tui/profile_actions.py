"""The workbench's profile actions: open, save, save as, delete, restore, and the title's
unsaved mark.

`WorkbenchApp` holds one `ProfileActions` (`app.profile_actions`) and forwards its keys
and palette entries here. The app owns the profile as last opened or saved
(`app.profile`); the workbench screen says what the profile is now
(`WorkbenchScreen.current_profile()`). Files are read and written off the UI thread
by `profiles.store`; a profile that does not load or save is a one-line notification.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from profiles.schema import Profile
from tui.screens.confirm import ConfirmScreen

if TYPE_CHECKING:
    from profiles.store import ProfileEntry

PROFILE_NAME_HINT = "letters, digits, '.', '_' and '-'; at most 64 characters"


class ProfileActions:
    """Open, save, save as, delete and restore profiles for the workbench app."""

    def __init__(self, app: Any) -> None:
        """`app`: the `tui.app.WorkbenchApp` (its profile, results, workbench screen, and
        Textual's workers, screens and notifications)."""
        self.app = app
        self.profile_path: Path | None = None
        """Where the profile was last saved, if it was saved in this session."""
        self.unsaved = False
        """The profile on screen differs from `app.profile`; the title shows a `*`."""

    # --- title and unsaved changes -----------------------------------------------------

    def update_title(self) -> None:
        app = self.app
        app.title = f"llmbench · {app.profile.name}{' *' if self.unsaved else ''}"

    def edited(self) -> None:
        """The workbench changed: update the unsaved mark."""
        try:
            current = self.app.workbench.current_profile()
        except LookupError:
            return
        self.unsaved = current != same_form(self.app.profile)
        self.update_title()

    # --- open --------------------------------------------------------------------------

    def choose_and_open(self) -> None:
        """Choose a profile and open it (the current models are unloaded).

        The profiles are read and checked in a thread worker (each file is capped at
        `profiles.store.MAX_PROFILE_BYTES`), so a large or broken file never freezes the UI;
        the dialog opens when the list is ready.
        """
        self.app.run_worker(
            self._list_for_open, thread=True, group="open", exclusive=True, name="list profiles"
        )

    def _list_for_open(self) -> None:
        from engines.messages import one_line
        from profiles.store import list_profiles

        try:
            entries = list_profiles()
        except Exception as error:  # noqa: BLE001 - a worker's exception would end the app
            self.app.call_from_thread(
                self.app.notify, f"cannot list profiles: {one_line(error)}", severity="error"
            )
            return
        self.app.call_from_thread(self._show_open_dialog, entries)

    def _show_open_dialog(self, entries: list[ProfileEntry]) -> None:
        from tui.screens.open_profile import OpenProfileScreen

        self.app.push_screen(OpenProfileScreen(entries), self._open_chosen)

    def _open_chosen(self, path: str | None) -> None:
        if path:
            self.app.run_worker(
                partial(self._load_for_open, path), thread=True, group="open", name="open profile"
            )

    def _load_for_open(self, name_or_path: str) -> None:
        from profiles.errors import ProfileError
        from profiles.store import load_profile

        try:
            profile = load_profile(name_or_path)
        except ProfileError as error:
            self.app.call_from_thread(self.app.notify, str(error), severity="error", timeout=10)
            return
        self.app.call_from_thread(self._show_profile, profile)

    def open_profile(self, name_or_path: str) -> bool:
        """Replace the workbench with this profile. False (with a message) if it does not load."""
        from profiles.errors import ProfileError
        from profiles.store import load_profile

        try:
            profile = load_profile(name_or_path)
        except ProfileError as error:
            self.app.notify(str(error), severity="error", timeout=10)
            return False
        self._show_profile(profile)
        return True

    def _show_profile(self, profile: Profile) -> None:
        self.app.workbench.close_all()
        self.app.profile, self.profile_path, self.unsaved = profile, None, False
        self.app.results.clear()
        self.app.suite_results.clear()  # answers of the panes of the profile closed
        self.app.switch_screen(self.app.new_workbench(profile))
        self.update_title()
        self.app.notify(f"opened {profile.name}")

    # --- save --------------------------------------------------------------------------

    def save(self) -> None:
        """Save the profile under its name (a bundled one is saved as your copy)."""
        self.save_profile(self.app.workbench.current_profile())

    def save_as(self) -> None:
        """Save the profile under a new name."""
        from tui.screens.text_prompt import TextPromptScreen

        self.app.push_screen(
            TextPromptScreen(
                "Save profile as",
                value=self.app.profile.name,
                hint=PROFILE_NAME_HINT,
                check=profile_name_problem,
            ),
            self._save_as_chosen,
        )

    def _save_as_chosen(self, name: str | None) -> None:
        """Save under `name`, which becomes the current profile; ask first when that
        overwrites a saved profile or hides a bundled one."""
        if not name:
            return
        from profiles.profile_removal import has_bundled
        from profiles.store import default_path

        profile = self.app.workbench.current_profile().model_copy(update={"name": name})
        target = default_path(name)
        if os.path.lexists(target):
            question = f"A saved profile '{name}' exists ({target}). Overwrite it?"
        elif has_bundled(name):
            question = (
                f"'{name}' is a bundled profile. Save your copy, which hides the bundled one "
                "(the palette's 'Restore bundled profile' brings it back)?"
            )
        else:
            self.save_profile(profile)
            return
        self.app.push_screen(
            ConfirmScreen(question, yes="Overwrite" if os.path.lexists(target) else "Save"),
            lambda yes: self.save_profile(profile) if yes else None,
        )

    # --- delete and restore ----------------------------------------------------------

    def delete(self) -> None:
        """Choose one of your saved profiles and delete it (after asking)."""
        self._choose_then(
            lambda entry: entry.source == "user", "Delete a saved profile", self._delete_chosen
        )

    def restore(self) -> None:
        """Choose a bundled profile that your copy hides, and remove your copy."""
        self._choose_then(
            lambda entry: entry.shadowed, "Restore a bundled profile", self._restore_chosen
        )

    def _choose_then(
        self,
        wanted: Callable[[ProfileEntry], bool],
        title: str,
        then: Callable[[str], None],
    ) -> None:
        """List the profiles off the UI thread, then let the person choose one of `wanted`."""

        def listed() -> None:
            from engines.messages import one_line
            from profiles.store import list_profiles

            try:
                entries = [entry for entry in list_profiles() if wanted(entry)]
            except Exception as error:  # noqa: BLE001 - a worker's exception would end the app
                self.app.call_from_thread(
                    self.app.notify, f"cannot list profiles: {one_line(error)}", severity="error"
                )
                return
            self.app.call_from_thread(self._choose_from, entries, title, then)

        self.app.run_worker(listed, thread=True, group="open", exclusive=True, name="list profiles")

    def _choose_from(
        self, entries: list[ProfileEntry], title: str, then: Callable[[str], None]
    ) -> None:
        from tui.screens.open_profile import OpenProfileScreen

        if not entries:
            self.app.notify(f"{title.lower()}: there is none", severity="warning")
            return
        by_path = {str(entry.path): entry.name for entry in entries}

        def chosen(path: str | None) -> None:
            if path:
                then(by_path[path])

        self.app.push_screen(OpenProfileScreen(entries, title=title, verb="choose"), chosen)

    def _delete_chosen(self, name: str) -> None:
        from profiles.profile_removal import delete_saved_profile

        def confirmed(yes: bool | None) -> None:
            if yes:
                self._remove_with(delete_saved_profile, name, "deleted")

        self.app.push_screen(
            ConfirmScreen(f"Delete your saved profile '{name}'?", "Delete"), confirmed
        )

    def _restore_chosen(self, name: str) -> None:
        from profiles.profile_removal import restore_bundled_profile

        question = f"Remove your copy of '{name}', so the bundled profile shows again?"
        self.app.push_screen(
            ConfirmScreen(question, "Restore"),
            lambda yes: (
                self._remove_with(restore_bundled_profile, name, "restored") if yes else None
            ),
        )

    def _remove_with(self, remove: Callable[[str], Path], name: str, done: str) -> None:
        from profiles.errors import ProfileError

        try:
            remove(name)
        except ProfileError as error:
            self.app.notify(str(error), severity="error", timeout=10)
            return
        if name == self.app.profile.name:
            self.profile_path = None
        self.app.notify(f"{done} {name}")

    def save_profile(self, profile: Profile) -> None:
        """Save `profile` off the UI thread; the title loses its `*` when it is written."""
        self.app.run_worker(
            partial(self._save, profile), thread=True, group="save", name="save profile"
        )

    def _save(self, profile: Profile) -> None:
        from profiles.errors import ProfileError
        from profiles.store import save_profile

        try:
            path = save_profile(profile)
        except ProfileError as error:
            self.app.call_from_thread(self.app.notify, str(error), severity="error", timeout=10)
            return
        self.app.call_from_thread(self._saved, profile, path)

    def _saved(self, profile: Profile, path: Path) -> None:
        self.app.profile, self.profile_path = profile, path
        self.app.workbench.profile = self.app.workbench.profile.model_copy(
            update={"name": profile.name}
        )
        self.unsaved = self.app.workbench.current_profile() != same_form(profile)
        self.update_title()
        self.app.notify(f"saved {profile.name} to {path}")


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
