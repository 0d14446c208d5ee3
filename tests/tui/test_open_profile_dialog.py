"""The open dialog (ctrl+o) with hostile profiles on disk: the app stays up and lists them all."""

from __future__ import annotations

import os
import threading
import time

import pytest
from workbench_fakes import FakeEngines, fake_app, make_profile

import profiles.store
from profiles.store import profiles_dir
from tui.screens.open_profile import OpenProfileScreen

SIZE = (120, 40)


async def wait_until(pilot, condition, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {condition.__doc__ or condition}")
        await pilot.pause(0.02)


def option_texts(screen: OpenProfileScreen) -> dict[str, str]:
    """Each option's id (the profile's path) → its text."""
    options = screen.query_one("#profiles")
    found = {}
    for index in range(options.option_count):
        option = options.get_option_at_index(index)
        found[option.id] = str(option.prompt)
    return found


async def test_broken_profiles_are_listed_and_the_app_survives(
    engines: FakeEngines, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = profiles_dir()
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "deep.toml").write_text("a = " + "[" * 500 + "]" * 500 + "\n", encoding="utf-8")
    (folder / "folder.toml").mkdir()
    if hasattr(os, "mkfifo"):
        os.mkfifo(folder / "pipe.toml")
    (folder / "fine.toml").write_text('name = "fine"\n[[panes]]\nmodel = "a"\n', encoding="utf-8")
    readers: list[threading.Thread] = []
    real_load = profiles.store.load_profile_file

    def recording_load(path):
        readers.append(threading.current_thread())
        return real_load(path)

    monkeypatch.setattr(profiles.store, "load_profile_file", recording_load)

    app = fake_app(make_profile("a"), engines)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+o")
        await wait_until(pilot, lambda: isinstance(app.screen, OpenProfileScreen))
        texts = option_texts(app.screen)
        assert "nested too deeply" in texts[str(folder / "deep.toml")]
        assert "is a directory, not a profile file" in texts[str(folder / "folder.toml")]
        if hasattr(os, "mkfifo"):
            assert "named pipe (FIFO)" in texts[str(folder / "pipe.toml")]
        assert readers and threading.main_thread() not in readers, "parsed on the UI thread"

        options = app.screen.query_one("#profiles")
        options.highlighted = list(texts).index(str(folder / "fine.toml"))
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.profile.name == "fine")
        assert app.is_running
