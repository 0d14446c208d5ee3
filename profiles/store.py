"""Profiles on disk: find, load, validate and save them as TOML a person can read and edit.

- User profiles live in `profiles_dir()`: `$LLMBENCH_PROFILES_DIR` if set, else
  `engines.paths.config_dir()/"profiles"` (itself overridden by `$LLMBENCH_CONFIG_DIR`).
- Bundled examples ship read-only in the `profiles/bundled/` package folder.
- A name is looked up in the user folder first, then among the bundled ones, so saving a
  bundled profile writes a user copy that shadows it.

Loading never writes. Every failure is a `ProfileError` naming the file and the key.
"""

from __future__ import annotations

import difflib
import os
import stat
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import tomli_w
from pydantic import ValidationError

from engines.paths import config_dir, file_kind
from profiles.atomic import atomic_write_text
from profiles.errors import ProfileError, problems_from_validation
from profiles.schema import CURRENT_VERSION, Profile

PROFILES_DIR_ENV = "LLMBENCH_PROFILES_DIR"
"""Overrides the user profiles directory itself (takes precedence over LLMBENCH_CONFIG_DIR)."""

PROFILE_SUFFIX = ".toml"

MAX_PROFILE_BYTES = 1 << 20
"""A profile is a few KiB; anything over 1 MiB is refused unread (never a UI freeze)."""

ProfileSource = Literal["bundled", "user"]


@dataclass(frozen=True)
class ProfileEntry:
    """One profile file found on disk, valid or not.

    `name` is what `load_profile` accepts (the file name without `.toml`); `error` is the
    one-line problem when the file does not load, and then `description` is empty.
    """

    name: str
    source: ProfileSource
    path: Path
    description: str = ""
    error: str | None = None
    shadowed: bool = False
    """True for a bundled profile hidden by a user profile of the same name."""
    n_panes: int = 0
    """How many panes the profile has (0 when it does not load)."""


def profiles_dir() -> Path:
    """Where user profiles are read and saved. Not created until a profile is saved."""
    override = os.environ.get(PROFILES_DIR_ENV)
    return Path(override).expanduser() if override else config_dir() / "profiles"


def bundled_dir() -> Path:
    """The read-only folder of example profiles shipped with llmbench."""
    return Path(__file__).resolve().parent / "bundled"


def is_bundled_path(path: Path) -> bool:
    """Whether `path` lies in the bundled (read-only) folder."""
    try:
        return path.resolve().is_relative_to(bundled_dir())
    except OSError:
        return False


# --- Loading -------------------------------------------------------------------------------


def load_profile(name_or_path: str | os.PathLike[str]) -> Profile:
    """Load a profile by name (user folder first, then bundled) or by path to a TOML file."""
    return load_profile_file(resolve_profile(name_or_path))


def locate_profile(name_or_path: str | os.PathLike[str]) -> Path | None:
    """The file `name_or_path` names (a path, or a user then bundled profile name), or None.

    Reads no profile, so it is cheap enough for the UI thread (unlike `resolve_profile`'s
    error, which lists every profile to suggest a close name)."""
    text = os.fspath(name_or_path)
    if _looks_like_path(text):
        candidate = Path(text).expanduser()
        return candidate if os.path.lexists(candidate) else None
    for folder in (profiles_dir(), bundled_dir()):
        path = folder / f"{text}{PROFILE_SUFFIX}"
        if os.path.lexists(path):
            return path
    return None


def resolve_profile(name_or_path: str | os.PathLike[str]) -> Path:
    """The file that `name_or_path` refers to; ProfileError (with suggestions) if none."""
    text = os.fspath(name_or_path)
    found = locate_profile(text)
    if found is not None:
        return found
    if _looks_like_path(text):
        raise ProfileError(Path(text).expanduser(), ["no such profile file"])
    known = sorted({entry.name for entry in list_profiles()})
    close = difflib.get_close_matches(text, known, n=1)
    hint = f"; did you mean '{close[0]}'?" if close else ""
    listing = f" (known: {', '.join(known)})" if known and not close else ""
    raise ProfileError(None, [f"no profile named '{text}'{hint}{listing}"])


def _looks_like_path(text: str) -> bool:
    return (
        text.endswith(PROFILE_SUFFIX)
        or os.sep in text
        or (os.altsep is not None and os.altsep in text)
        or text.startswith(("~", "."))
    )


def load_profile_file(path: str | os.PathLike[str]) -> Profile:
    """Read, parse and validate one profile file. Never modifies it."""
    path = Path(path)
    return parse_profile_text(_read_text(path), source=path)


def parse_profile_text(text: str, source: str | Path | None = None) -> Profile:
    """Validate profile TOML text; `source` names it in error messages."""
    try:
        raw = tomllib.loads(text)
        return profile_from_dict(raw, source)
    except tomllib.TOMLDecodeError as error:
        raise ProfileError(source, [f"malformed TOML: {error}"]) from None
    except RecursionError:
        raise ProfileError(
            source, ["malformed TOML: arrays or tables nested too deeply to be a profile"]
        ) from None


def profile_from_dict(raw: dict[str, Any], source: str | Path | None = None) -> Profile:
    """Validate an already-parsed profile table (strict types: TOML types are exact)."""
    version = raw.get("version", CURRENT_VERSION)
    if isinstance(version, int) and not isinstance(version, bool) and version > CURRENT_VERSION:
        raise ProfileError(
            source,
            [
                f"version: written by a newer llmbench (version {version}; this one reads up to "
                f"{CURRENT_VERSION}); upgrade llmbench to open it"
            ],
        )
    try:
        return Profile.model_validate(raw, strict=True)
    except ValidationError as error:
        raise ProfileError(source, problems_from_validation(error, Profile)) from None


def _read_text(path: Path) -> str:
    """The file's text: a regular file of at most MAX_PROFILE_BYTES, as UTF-8.

    Anything else (a directory, a FIFO, a device, a link to one) is refused from its
    `stat`, before it is opened, so a FIFO never blocks and a device is never read.
    """
    try:
        data = _read_regular_file(path, MAX_PROFILE_BYTES)
    except FileNotFoundError:
        raise ProfileError(path, ["no such profile file"]) from None
    except OSError as error:
        raise ProfileError(path, [f"cannot read: {error.strerror or error}"]) from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ProfileError(
            path, [f"not UTF-8 text (byte {error.start}); save it as UTF-8"]
        ) from None


def _read_regular_file(path: Path, limit: int) -> bytes:
    """At most `limit` bytes of a regular file; ProfileError for anything else or anything larger."""
    problem = _not_a_profile_file(os.stat(path), limit)
    if problem:
        raise ProfileError(path, [problem])
    descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    with os.fdopen(descriptor, "rb") as stream:
        problem = _not_a_profile_file(os.fstat(stream.fileno()), limit)
        if problem:
            raise ProfileError(path, [problem])
        data = stream.read(limit + 1)
    if len(data) > limit:
        raise ProfileError(path, [_too_large(len(data), limit)])
    return data


def _not_a_profile_file(info: os.stat_result, limit: int) -> str | None:
    """Why a file with this `stat` cannot be a profile, or None."""
    mode = info.st_mode
    if stat.S_ISDIR(mode):
        return "is a directory, not a profile file"
    if not stat.S_ISREG(mode):
        return f"is {file_kind(mode)}, not a profile file"
    if info.st_size > limit:
        return _too_large(info.st_size, limit)
    return None


def _too_large(size: int, limit: int) -> str:
    return f"too large for a profile ({size / 2**20:.1f} MiB; at most {limit // 2**20} MiB)"


# --- Saving --------------------------------------------------------------------------------


def profile_to_toml(profile: Profile) -> str:
    """The profile as readable TOML: unset optional keys and empty tables left out."""
    return tomli_w.dumps(_profile_data(profile), multiline_strings=True)


def _profile_data(profile: Profile) -> dict[str, Any]:
    data = profile.model_dump(mode="json", exclude_none=True, exclude={"prompts"})
    if profile.prompts:  # only what each prompt sets, checks under their file names
        data["prompts"] = [
            prompt.model_dump(mode="json", by_alias=True, exclude_defaults=True)
            for prompt in profile.prompts
        ]
    return _prune(data)


def _prune(value: Any) -> Any:
    """Drop empty tables (e.g. a pane with no sampling overrides) so the file stays short."""
    if isinstance(value, dict):
        pruned = {key: _prune(item) for key, item in value.items()}
        return {key: item for key, item in pruned.items() if item != {}}
    if isinstance(value, list):
        return [_prune(item) for item in value]
    return value


def save_profile(profile: Profile, path: str | os.PathLike[str] | None = None) -> Path:
    """Save atomically to `path` (default `profiles_dir()/<name>.toml`); returns the path.

    When the file exists (or, for a bundled name, the bundled file), its comments, key
    order and layout are kept and only what changed is written (`profiles.comment_keeping`).
    Bundled profiles are read-only: saving one by name writes a user copy, and an explicit
    path inside the bundled folder is refused. The profile is validated again first (a
    `model_copy(update=...)` skips validation), so a file that would not load is never written.
    """
    text = profile_to_toml(profile)
    parse_profile_text(text, source=os.fspath(path) if path else f"profile '{profile.name}'")
    target = Path(path).expanduser() if path is not None else default_path(profile.name)
    if is_bundled_path(target):
        raise ProfileError(
            target,
            [
                f"bundled profiles are read-only; save a copy instead (default: {default_path(profile.name)})"
            ],
        )
    template = target if path is not None else _template_for(profile.name)
    text = _with_comments_of(template, profile) or text
    try:
        return atomic_write_text(target, text)
    except OSError as error:
        raise ProfileError(target, [f"could not save: {error.strerror or error}"]) from None


def _template_for(name: str) -> Path:
    """The file whose comments a save by name keeps: the user copy, else the bundled one."""
    user = default_path(name)
    bundled = bundled_dir() / f"{name}{PROFILE_SUFFIX}"
    return bundled if not os.path.lexists(user) and bundled.is_file() else user


def _with_comments_of(template: Path, profile: Profile) -> str | None:
    """The profile written into `template`'s text (comments kept), or None when `template` is
    missing or not a valid profile, or the result would not load as exactly `profile`."""
    from profiles.comment_keeping import updated_toml

    try:
        old_text = _read_text(template)
        old_profile = parse_profile_text(old_text, template)
    except ProfileError:
        return None
    text = updated_toml(old_text, _profile_data(old_profile), _profile_data(profile))
    if text is None:
        return None
    try:
        same = _profile_data(parse_profile_text(text, template)) == _profile_data(profile)
    except ProfileError:
        return None
    return text if same else None


def default_path(name: str) -> Path:
    """Where a user profile called `name` is saved."""
    return profiles_dir() / f"{name}{PROFILE_SUFFIX}"


# --- Listing -------------------------------------------------------------------------------


def list_profiles() -> list[ProfileEntry]:
    """Every bundled and user profile, sorted by name (bundled first on a tie).

    A user profile that does not load is listed with its error rather than raising.
    """
    user = [_entry(path, "user") for path in _toml_files(profiles_dir())]
    user_names = {entry.name for entry in user}
    bundled = [
        _entry(path, "bundled", shadowed=path.stem in user_names)
        for path in _toml_files(bundled_dir())
    ]
    order = {"bundled": 0, "user": 1}
    return sorted(bundled + user, key=lambda entry: (entry.name, order[entry.source]))


def _toml_files(folder: Path) -> list[Path]:
    """Every `*.toml` entry of `folder`, whatever it is: a directory or a device named like a
    profile is listed with what is wrong rather than hidden."""
    try:
        return sorted(folder.glob(f"*{PROFILE_SUFFIX}"))
    except OSError:
        return []


def _entry(path: Path, source: ProfileSource, shadowed: bool = False) -> ProfileEntry:
    try:
        profile = load_profile_file(path)
    except ProfileError as error:
        return ProfileEntry(path.stem, source, path, error=error.summary, shadowed=shadowed)
    return ProfileEntry(
        path.stem,
        source,
        path,
        description=profile.description,
        shadowed=shadowed,
        n_panes=len(profile.panes),
    )
