"""Delete a saved profile, or restore a bundled one (remove the user copy that hides it).

Only files in the user folder (`profiles.store.profiles_dir()`) are ever removed; a bundled
profile is package data and is never deleted. Every failure is a one-line `ProfileError`.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from profiles.errors import ProfileError
from profiles.schema import PROFILE_NAME_PATTERN
from profiles.store import PROFILE_SUFFIX, bundled_dir, default_path


def _bundled_file(name: str) -> Path:
    return bundled_dir() / f"{name}{PROFILE_SUFFIX}"


def _checked_name(name: str) -> str:
    if not re.fullmatch(PROFILE_NAME_PATTERN, name):
        raise ProfileError(None, [f"not a profile name: {name!r} (a name, not a path)"])
    return name


def has_bundled(name: str) -> bool:
    """Whether llmbench ships a bundled profile called `name`."""
    return _bundled_file(name).is_file()


def delete_saved_profile(name: str) -> Path:
    """Delete the user's saved profile `name`; returns the removed path.

    ProfileError when there is no saved profile of that name (a bundled one is never
    deleted: the message says so)."""
    path = default_path(_checked_name(name))
    if not os.path.lexists(path):
        if has_bundled(name):
            raise ProfileError(
                None, [f"'{name}' is a bundled profile; bundled profiles cannot be deleted"]
            )
        raise ProfileError(None, [f"no saved profile named '{name}'"])
    return _remove(path)


def restore_bundled_profile(name: str) -> Path:
    """Remove the user copy of bundled profile `name`, so the bundled one shows again;
    returns the bundled file.

    ProfileError when llmbench has no bundled profile of that name, or no copy hides it."""
    if not has_bundled(_checked_name(name)):
        raise ProfileError(None, [f"no bundled profile named '{name}'"])
    path = default_path(name)
    if not os.path.lexists(path):
        raise ProfileError(None, [f"'{name}' already shows the bundled profile (you have no copy)"])
    _remove(path)
    return _bundled_file(name)


def _remove(path: Path) -> Path:
    if path.is_dir() and not path.is_symlink():
        raise ProfileError(path, ["is a folder, not a profile file; remove it yourself"])
    try:
        path.unlink()
    except OSError as error:
        raise ProfileError(path, [f"could not delete: {error.strerror or error}"]) from None
    return path
