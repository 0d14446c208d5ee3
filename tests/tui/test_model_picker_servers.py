"""The model picker's own discovery lists what the servers in config.toml offer."""

from __future__ import annotations

import pytest
from test_model_picker import GIB, SMALL, PickerApp, settled, status, table_refs
from textual.widgets import DataTable

from engines.config import ConfigError
from engines.models.discovery import DiscoveredModel
from tui.screens.model_picker import ModelPickerScreen

URL = "http://127.0.0.1:8080/v1"
SERVED = DiscoveredModel("server", f"openai:{URL}#qwen-7b", "qwen-7b", URL, None)
DOWN = DiscoveredModel(
    "server", "openai:http://gpu-box:8000/v1", "http://gpu-box:8000/v1",
    "http://gpu-box:8000/v1", None, "cannot reach http://gpu-box:8000/v1: connection refused",
)  # fmt: skip


def default_picker() -> ModelPickerScreen:
    """The picker with its default discovery (local models and servers, patched below)."""
    return ModelPickerScreen(ram_available=lambda: 8 * GIB, gpu_free=lambda: None)


@pytest.fixture
def local_models(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("engines.models.discovery.discover_models", lambda: [SMALL])


def serve(monkeypatch: pytest.MonkeyPatch, listing) -> None:
    monkeypatch.setattr("engines.catalog.served_models", listing)


async def test_a_served_model_is_listed_and_says_where_it_is_served(
    local_models: None, monkeypatch: pytest.MonkeyPatch
):
    serve(monkeypatch, lambda: [SERVED, DOWN])
    app = PickerApp(default_picker())
    async with app.run_test(size=(120, 30)) as pilot:
        await settled(pilot)
        assert table_refs(app) == [SMALL.ref, SERVED.ref, DOWN.ref]
        row = [str(cell) for cell in app.screen.query_one(DataTable).get_row(SERVED.ref)]
        assert row == ["server", "qwen-7b", "—", "—", "—", "remote", "—", "—"]
        await pilot.press("down")
        assert status(app) == f"{SERVED.ref}: served by {URL}"
        assert "metadata could not be read" not in status(app)
        await pilot.press("enter")
        assert app.result == SERVED.ref


async def test_a_server_that_could_not_be_listed_cannot_be_chosen(
    local_models: None, monkeypatch: pytest.MonkeyPatch
):
    serve(monkeypatch, lambda: [DOWN])
    app = PickerApp(default_picker())
    async with app.run_test(size=(120, 30)) as pilot:
        await settled(pilot)
        await pilot.press("down", "enter")
        assert app.result == "not dismissed"
        assert status(app) == f"http://gpu-box:8000/v1: {DOWN.error}"


async def test_a_bad_servers_entry_still_lists_the_local_models(
    local_models: None, monkeypatch: pytest.MonkeyPatch
):
    def broken() -> list:
        raise ConfigError("config.toml: servers must be a list of URLs")

    serve(monkeypatch, broken)
    app = PickerApp(default_picker())
    async with app.run_test(size=(120, 30)) as pilot:
        await settled(pilot)
        refs = table_refs(app)
        assert refs[0] == SMALL.ref and len(refs) == 2
        await pilot.press("down", "enter")
        assert app.result == "not dismissed"
        assert status(app).endswith("config.toml: servers must be a list of URLs")
