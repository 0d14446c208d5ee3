"""Atomic saves: an interrupted save leaves the old file, concurrent saves never corrupt it."""

from __future__ import annotations

import multiprocessing
import os
import threading
from pathlib import Path

import pytest

from profiles import atomic
from profiles.atomic import atomic_write_text
from profiles.errors import ProfileError
from profiles.schema import PaneSpec, Profile
from profiles.store import load_profile, save_profile

_START_METHOD = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
"""Fork where the platform has it: a spawned child spends seconds importing pydantic."""


def make_profile(writer: int, round_: int) -> Profile:
    """A profile whose contents say who wrote it; long enough that a torn write would show."""
    return Profile(
        name="shared",
        description=f"writer {writer} round {round_}",
        prompt="x" * 20_000 + f" writer {writer}",
        panes=[PaneSpec(model=f"demo:smollm2-135m#{writer}-{i}") for i in range(8)],
    )


def test_write_creates_parents_and_replaces_contents(tmp_path: Path) -> None:
    target = tmp_path / "a" / "b" / "file.txt"
    atomic_write_text(target, "one")
    atomic_write_text(target, "two")
    assert target.read_text() == "two"
    assert [p.name for p in target.parent.iterdir()] == ["file.txt"]


def test_existing_permissions_are_kept(tmp_path: Path) -> None:
    target = tmp_path / "file.txt"
    target.write_text("old")
    os.chmod(target, 0o640)
    atomic_write_text(target, "new")
    assert target.stat().st_mode & 0o777 == 0o640


def test_new_file_gets_the_umask_permissions_not_0600(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        atomic_write_text(tmp_path / "new.txt", "x")
    finally:
        os.umask(old)
    assert (tmp_path / "new.txt").stat().st_mode & 0o777 == 0o644


def test_save_interrupted_between_write_and_rename_keeps_the_old_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = save_profile(make_profile(1, 0), tmp_path / "shared.toml")
    before = path.read_bytes()

    def crash(*_args: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(atomic.os, "replace", crash)
    with pytest.raises(ProfileError, match="could not save: No space left on device"):
        save_profile(make_profile(2, 0), path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir() if p.name != "home"] == ["shared.toml"]
    assert load_profile(path).description == "writer 1 round 0"


def test_disk_full_during_write_keeps_the_old_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "file.txt"
    path.write_text("previous")

    def full(_fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(atomic.os, "fsync", full)
    with pytest.raises(OSError, match="No space left"):
        atomic_write_text(path, "new contents")
    assert path.read_text() == "previous"
    assert [p.name for p in tmp_path.iterdir() if p.name != "home"] == ["file.txt"]


def test_interrupt_keyboard_mid_save_removes_the_temp_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "file.txt"
    path.write_text("previous")

    def interrupted(*_args: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(atomic.os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        atomic_write_text(path, "new")
    assert path.read_text() == "previous"
    assert [p.name for p in tmp_path.iterdir() if p.name != "home"] == ["file.txt"]


def _hammer(path: str, writer: int, rounds: int) -> None:
    for round_ in range(rounds):
        save_profile(make_profile(writer, round_), path)


def _check_loadable(path: Path, stop: threading.Event, failures: list[str]) -> None:
    while not stop.is_set():
        try:
            loaded = load_profile(path)
        except ProfileError as error:
            failures.append(str(error))
            return
        writer = loaded.description.split()[1]
        if not loaded.prompt.endswith(f"writer {writer}"):
            failures.append(f"mixed contents: {loaded.description}")
            return


def test_concurrent_saves_from_several_processes_never_corrupt(tmp_path: Path) -> None:
    path = tmp_path / "shared.toml"
    save_profile(make_profile(0, 0), path)
    context = multiprocessing.get_context(_START_METHOD)
    writers = [context.Process(target=_hammer, args=(str(path), n, 30)) for n in range(1, 5)]
    stop = threading.Event()
    failures: list[str] = []
    reader = threading.Thread(target=_check_loadable, args=(path, stop, failures))
    for process in writers:
        process.start()  # before the reader thread exists: never fork with a thread running
    reader.start()
    for process in writers:
        process.join(timeout=120)
    stop.set()
    reader.join()
    assert [process.exitcode for process in writers] == [0, 0, 0, 0]
    assert failures == []
    final = load_profile(path)
    assert final.description in {f"writer {n} round 29" for n in range(1, 5)}
    assert [p.name for p in tmp_path.iterdir() if p.name != "home"] == ["shared.toml"]


def test_concurrent_saves_from_threads_never_corrupt(tmp_path: Path) -> None:
    path = tmp_path / "shared.toml"
    threads = [threading.Thread(target=_hammer, args=(str(path), n, 20)) for n in range(1, 5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    final = load_profile(path)
    assert final.prompt.endswith(f"writer {final.description.split()[1]}")
    assert [p.name for p in tmp_path.iterdir() if p.name != "home"] == ["shared.toml"]
