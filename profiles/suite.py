"""Prompt suites: many prompts run on every pane, each with optional cheap checks.

A profile holds its suite inline (`[[prompts]]`: `text`, optional `system`, `id`,
`expect`) or names a file (`prompts_file`). A suite file is JSONL (one object a line with
the same keys as `[[prompts]]`, or a bare JSON string) or plain text (one prompt per
paragraph: prompts separated by blank lines). `read_suite_file` refuses a file with a bad
line as one `SuiteError` naming the file and the line, before anything runs.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, StringConstraints, ValidationError

from profiles.checks import CheckSpec

MAX_SUITE_FILE_BYTES = 16 * 1024 * 1024
"""A suite file larger than this is refused unread."""

MAX_PROMPTS = 10_000
"""The most prompts one suite may hold."""


class SuiteError(ValueError):
    """A suite that cannot run. str() is one line naming the file (and line) at fault."""


class SuitePrompt(BaseModel):
    """One prompt of a suite."""

    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)

    text: Annotated[str, StringConstraints(min_length=1)]
    """The prompt."""
    system: str | None = None
    """System prompt for this prompt (chat models); left out, the profile's."""
    id: Annotated[str, StringConstraints(min_length=1, max_length=128)] | None = None
    """A short name for the prompt (results and resume use it); left out, p1, p2, …"""
    expect: CheckSpec | None = None
    """Cheap checks on the answer (`profiles.checks`)."""


@dataclass(frozen=True)
class Suite:
    """The prompts to run, with a stable id for each and where they came from."""

    name: str
    """The suite file's stem, or "inline" for a profile's own [[prompts]]."""
    source: str
    """The file read, or "profile NAME"."""
    prompts: tuple[SuitePrompt, ...]

    @property
    def ids(self) -> list[str]:
        """Each prompt's id, in order (its own, else p1, p2, …)."""
        return [prompt.id or f"p{number}" for number, prompt in enumerate(self.prompts, start=1)]

    @property
    def digest(self) -> str:
        """A short hash of the prompts and checks: a resumed run must run the same suite."""
        data = json.dumps(
            [prompt.model_dump(mode="json", by_alias=True) for prompt in self.prompts],
            sort_keys=True,
        )
        return hashlib.sha256(data.encode("utf-8")).hexdigest()[:16]

    @property
    def check_count(self) -> int:
        """Checks over the whole suite (per pane)."""
        return sum(prompt.expect.count for prompt in self.prompts if prompt.expect)


def suite_of(
    profile: Any, profile_dir: Path | None = None, prompts_file: str | Path | None = None
) -> Suite | None:
    """The suite to run: `prompts_file` (e.g. `--prompts FILE`), else the `profiles.schema.Profile`'s own
    (`[[prompts]]` or `prompts_file`, found beside the profile file in `profile_dir`);
    None when the profile has none. Raises `SuiteError`."""
    if prompts_file is not None:
        return read_suite_file(prompts_file)
    if profile.prompts_file:
        return read_suite_file(_locate(profile.prompts_file, profile_dir))
    if profile.prompts:
        return Suite("inline", f"profile {profile.name}", tuple(profile.prompts))
    return None


def _locate(name: str, profile_dir: Path | None) -> Path:
    """A relative `prompts_file` is read beside its profile, else from the current folder."""
    path = Path(os.path.expanduser(name))
    if path.is_absolute() or profile_dir is None:
        return path
    beside = profile_dir / path
    return beside if beside.exists() or not path.exists() else path


def read_suite_file(path: str | Path) -> Suite:
    """Read a JSONL or text suite file; `SuiteError` names the file and the bad line."""
    path = Path(path)
    text = _read_text(path)
    if path.suffix.lower() in (".jsonl", ".ndjson", ".json"):
        prompts = _parse_jsonl(path, text)
    else:
        prompts = _parse_paragraphs(text)
    if not prompts:
        raise SuiteError(f"{path}: no prompts in the file")
    if len(prompts) > MAX_PROMPTS:
        raise SuiteError(f"{path}: {len(prompts)} prompts; at most {MAX_PROMPTS}")
    _check_unique_ids(path, prompts)
    return Suite(path.stem, str(path), tuple(prompts))


def _read_text(path: Path) -> str:
    try:
        info = path.stat()
        if not path.is_file():
            raise SuiteError(f"{path}: not a regular file")
        if info.st_size > MAX_SUITE_FILE_BYTES:
            raise SuiteError(
                f"{path}: {info.st_size} bytes; a suite file holds at most "
                f"{MAX_SUITE_FILE_BYTES // (1024 * 1024)} MiB"
            )
        return path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as error:
        raise SuiteError(f"{path}: not UTF-8 text (byte {error.start})") from None
    except OSError as error:
        raise SuiteError(
            f"{path}: cannot read the suite file ({error.strerror or error})"
        ) from None


def _parse_jsonl(path: Path, text: str) -> list[SuitePrompt]:
    prompts: list[SuitePrompt] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("//"):
            continue
        try:
            raw: Any = json.loads(line)
        except ValueError as error:
            reason = str(error).split(":")[0]
            raise SuiteError(f"{path}: line {number}: not valid JSON ({reason})") from None
        if isinstance(raw, str):
            raw = {"text": raw}
        if not isinstance(raw, dict):
            raise SuiteError(
                f'{path}: line {number}: expected an object with a "text" key, or a string'
            )
        try:
            prompts.append(SuitePrompt.model_validate(raw))
        except ValidationError as error:
            raise SuiteError(f"{path}: line {number}: {_first_problem(error)}") from None
    return prompts


def _parse_paragraphs(text: str) -> list[SuitePrompt]:
    paragraphs, current = [], []
    for line in text.splitlines():
        if line.strip():
            current.append(line.rstrip())
        elif current:
            paragraphs.append("\n".join(current))
            current = []
    if current:
        paragraphs.append("\n".join(current))
    return [SuitePrompt(text=paragraph) for paragraph in paragraphs]


def _check_unique_ids(path: Path, prompts: list[SuitePrompt]) -> None:
    seen: set[str] = set()
    for number, prompt in enumerate(prompts, start=1):
        ident = prompt.id or f"p{number}"
        if ident in seen:
            raise SuiteError(f"{path}: prompt {number}: id {ident!r} is used twice")
        seen.add(ident)


def _first_problem(error: ValidationError) -> str:
    items = error.errors(include_url=False)
    # An unknown key explains a missing one ("prompt" for "text"): name it first.
    item = next((i for i in items if i.get("type") == "extra_forbidden"), items[0])
    loc = ".".join(str(part) for part in item.get("loc", ()))
    message = str(item.get("msg", "invalid value"))
    if item.get("type") == "extra_forbidden":
        message = "unknown key"
    elif item.get("type") == "missing":
        message = "missing"
    return f"{loc}: {message}" if loc else message
