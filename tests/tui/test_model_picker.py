"""The model picker, pushed by a small harness app, with discovery and downloads injected."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from textual.app import App
from textual.widgets import DataTable, Input, ProgressBar, Static

from engines.models.discovery import DiscoveredModel
from engines.models.gguf_info import GGUFMetadata
from engines.models.hub import DownloadError, DownloadProgress
from tui.screens.model_picker import DownloadCancelled, ModelPickerScreen
from tui.screens.picker_entries import fit_summary, looks_like_reference

GIB = 1024**3
MIB = 1024**2


def metadata(
    name: str, file_size: int, n_params: int, quant: str, chat: bool = True
) -> GGUFMetadata:
    return GGUFMetadata(
        path=f"/models/{name}.gguf",
        shard_paths=(f"/models/{name}.gguf",),
        file_size=file_size,
        name=name,
        architecture="llama",
        n_params=n_params,
        quantization=quant,
        context_length=8192,
        n_layers=30,
        n_heads=9,
        n_kv_heads=3,
        embedding_length=576,
        key_length=None,
        value_length=None,
        has_chat_template=chat,
        license=None,
        tensor_count=272,
    )


def discovered(
    ref: str, source: str, name: str, meta: GGUFMetadata | None, error: str | None = None
):
    return DiscoveredModel(source=source, ref=ref, name=name, path=f"/models/{name}.gguf",
                           metadata=meta, error=error)  # fmt: skip


SMALL = discovered(
    "demo:smollm2-135m", "demo", "SmolLM2 135M", metadata("smollm2", 94 * MIB, 135_000_000, "Q4_1")
)
LARGE = discovered(
    "hf:bartowski/Big-70B-GGUF:Q4_K_M", "hf", "Big 70B",
    metadata("big", 40 * GIB, 70_000_000_000, "Q4_K_M", chat=True),
)  # fmt: skip
BROKEN = discovered(
    "lmstudio:x/y/broken.gguf", "lmstudio", "broken", None, "broken.gguf: truncated"
)
MODELS = [SMALL, LARGE, BROKEN]


class PickerApp(App):
    """Pushes the picker at start and keeps what it dismissed with."""

    def __init__(self, screen: ModelPickerScreen) -> None:
        super().__init__()
        self.picker = screen
        self.result: str | None = "not dismissed"

    def on_mount(self) -> None:
        self.push_screen(self.picker, self.remember)

    def remember(self, result: str | None) -> None:
        self.result = result


def picker(**overrides) -> ModelPickerScreen:
    options = dict(
        discover=lambda: MODELS,
        ram_available=lambda: 8 * GIB,
        gpu_free=lambda: None,
        is_cached=lambda ref: False,
        pull=lambda ref, progress: Path("/unused"),
    )
    options.update(overrides)
    return ModelPickerScreen(**options)


async def settled(pilot) -> None:
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def status(app: App) -> str:
    return str(app.screen.query_one("#picker-status", Static).render())


def table_refs(app: App) -> list[str]:
    table = app.screen.query_one(DataTable)
    return [str(row.value) for row in table.rows]


async def test_lists_discovered_models_with_metadata_and_fit():
    app = PickerApp(picker())
    async with app.run_test(size=(120, 30)) as pilot:
        await settled(pilot)
        assert table_refs(app) == [SMALL.ref, LARGE.ref, BROKEN.ref]
        table = app.screen.query_one(DataTable)
        small = [str(cell) for cell in table.get_row_at(0)]
        assert small == [
            "demo",
            "SmolLM2 135M",
            "135M",
            "Q4_1",
            "94.0 MiB",
            "RAM ✓",
            "8,192",
            "yes",
        ]
        large = [str(cell) for cell in table.get_row_at(1)]
        assert large[2] == "70B" and large[5].startswith("RAM ✗ ")  # 40 GiB of weights > 8 GiB
        broken = [str(cell) for cell in table.get_row_at(2)]
        assert broken[2:] == ["—", "—", "—", "?", "—", "—"]
        assert status(app).startswith("demo:smollm2-135m: needs about ")


async def test_gpu_fit_shows_where_a_gpu_is_visible():
    app = PickerApp(picker(gpu_free=lambda: 24 * GIB))
    async with app.run_test(size=(120, 30)) as pilot:
        await settled(pilot)
        fits = [str(app.screen.query_one(DataTable).get_row_at(i)[5]) for i in range(2)]
        assert fits[0] == "RAM ✓ GPU ✓"
        assert fits[1].startswith("RAM ✗") and " GPU ✗ " in fits[1]


async def test_typing_filters_and_enter_takes_the_highlighted_model():
    app = PickerApp(picker())
    async with app.run_test(size=(120, 30)) as pilot:
        await settled(pilot)
        await pilot.press(*"big")
        await pilot.pause()
        assert table_refs(app) == [LARGE.ref]
        await pilot.press("enter")
        await pilot.pause()
        assert app.result == LARGE.ref


async def test_arrows_move_the_highlight_from_the_input():
    app = PickerApp(picker())
    async with app.run_test(size=(120, 30)) as pilot:
        await settled(pilot)
        await pilot.press("down", "down", "up", "down")
        await pilot.pause()
        assert app.screen.focused is app.screen.query_one(Input)
        assert "broken.gguf: truncated" in status(app)
        await pilot.press("enter")
        await pilot.pause()
        assert app.result == BROKEN.ref


async def test_a_missing_path_says_so_and_stays_open(tmp_path: Path):
    app = PickerApp(picker())
    async with app.run_test(size=(120, 30)) as pilot:
        await settled(pilot)
        app.screen.query_one(Input).value = str(tmp_path / "nothing.gguf")
        await pilot.press("enter")
        await pilot.pause()
        assert app.result == "not dismissed"
        assert "there is no file" in status(app)
        assert app.screen.query_one("#picker-status").has_class("-error")
        model = tmp_path / "model.gguf"
        model.write_bytes(b"GGUF")
        app.screen.query_one(Input).value = str(model)
        await pilot.press("enter")
        await pilot.pause()
        assert app.result == str(model)


async def test_an_unknown_scheme_gets_the_reference_error():
    app = PickerApp(picker())
    async with app.run_test(size=(120, 30)) as pilot:
        await settled(pilot)
        app.screen.query_one(Input).value = "foo:bar"
        await pilot.press("enter")
        await pilot.pause()
        assert app.result == "not dismissed"
        assert "unknown model reference scheme 'foo:'" in status(app)


async def test_an_uncached_hf_reference_downloads_with_progress_then_dismisses():
    seen: list[tuple[str, int]] = []
    release = threading.Event()

    def fake_pull(ref: str, progress) -> Path:
        for done in (0, 50 * MIB):
            progress(DownloadProgress("m-Q4_K_M.gguf", done, 100 * MIB, 1, 1))
            seen.append((ref, done))
        release.wait(5)
        progress(DownloadProgress("m-Q4_K_M.gguf", 100 * MIB, 100 * MIB, 1, 1))
        return Path("/cache/m-Q4_K_M.gguf")

    app = PickerApp(picker(pull=fake_pull))
    async with app.run_test(size=(120, 30)) as pilot:
        await settled(pilot)
        app.screen.query_one(Input).value = "hf:someone/m-GGUF:Q4_K_M"
        await pilot.press("enter")
        for _ in range(50):
            await pilot.pause(0.02)
            if seen and len(seen) == 2:
                break
        await pilot.pause(0.15)
        bar = app.screen.query_one("#download", ProgressBar)
        assert bar.has_class("-active") and bar.display
        assert app.screen.query_one(Input).disabled  # no second download while one runs
        assert seen[0][0] == "hf:someone/m-GGUF:Q4_K_M"
        release.set()
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.result == "hf:someone/m-GGUF:Q4_K_M"


async def test_a_cached_hf_reference_is_taken_without_downloading():
    pulled: list[str] = []
    app = PickerApp(picker(is_cached=lambda ref: True, pull=lambda ref, p: pulled.append(ref)))
    async with app.run_test(size=(120, 30)) as pilot:
        await settled(pilot)
        app.screen.query_one(Input).value = "hf:someone/m-GGUF:Q8_0"
        await pilot.press("enter")
        await pilot.pause()
        assert app.result == "hf:someone/m-GGUF:Q8_0" and pulled == []


async def test_a_failed_download_shows_why_and_the_picker_stays():
    def failing_pull(ref: str, progress) -> Path:
        raise DownloadError("someone/gated is gated: request access on the model page")

    app = PickerApp(picker(pull=failing_pull))
    async with app.run_test(size=(120, 30)) as pilot:
        await settled(pilot)
        app.screen.query_one(Input).value = "hf:someone/gated:Q4_K_M"
        await pilot.press("enter")
        await settled(pilot)
        assert app.result == "not dismissed"
        assert status(app) == "someone/gated is gated: request access on the model page"
        assert not app.screen.query_one(Input).disabled
        assert not app.screen.query_one("#download").has_class("-active")


async def test_escape_during_a_download_cancels_it():
    stopped = threading.Event()
    chunks: list[int] = []

    def endless_pull(ref: str, progress) -> Path:
        try:
            for chunk in range(1000):
                progress(DownloadProgress("f.gguf", chunk * MIB, 1000 * MIB, 1, 1))
                chunks.append(chunk)
                threading.Event().wait(0.01)
        except DownloadCancelled:
            stopped.set()
            raise
        return Path("/never")

    app = PickerApp(picker(pull=endless_pull))
    async with app.run_test(size=(120, 30)) as pilot:
        await settled(pilot)
        app.screen.query_one(Input).value = "hf:someone/big:Q4_K_M"
        await pilot.press("enter")
        await pilot.pause(0.1)
        await pilot.press("escape")
        await pilot.pause()
        assert app.result is None
        assert stopped.wait(2), "the download did not stop at its next chunk"
        assert len(chunks) < 1000


async def test_a_failing_discovery_is_reported_not_raised():
    def broken() -> list:
        raise PermissionError("/root/.ollama: permission denied")

    app = PickerApp(picker(discover=broken))
    async with app.run_test(size=(120, 30)) as pilot:
        await settled(pilot)
        assert status(app) == "Could not list models: /root/.ollama: permission denied"
        await pilot.press("escape")
        assert app.result is None


@pytest.mark.real_model  # reads the demo models' files (the demo extra), loads none
async def test_real_discovery_lists_the_demo_models():
    app = PickerApp(ModelPickerScreen())
    async with app.run_test(size=(120, 30)) as pilot:
        await settled(pilot)
        refs = table_refs(app)
        assert "demo:smollm2-135m" in refs and "demo:gemma3-270m" in refs
        row = app.screen.query_one(DataTable).get_row("demo:gemma3-270m")
        assert [str(row[i]) for i in (3, 4, 6, 7)] == ["Q4_K_M", "241 MiB", "32,768", "no"]


def test_looks_like_reference():
    for text in ("hf:a/b:Q4_K_M", "demo:smollm2-135m", "./m.gguf", "/abs/m", "~/m", "x.GGUF",
                 "openai:http://127.0.0.1:8080/v1#m", "foo:bar"):  # fmt: skip
        assert looks_like_reference(text), text
    for text in ("", "smol", "q4 gemma"):
        assert not looks_like_reference(text), text


def test_fit_summary_compares_the_estimate_with_free_memory():
    meta = metadata("m", 1 * GIB, 1_000_000_000, "Q8_0")
    assert fit_summary(meta, 4096, 16 * GIB, None)[0] == "RAM ✓"
    fits, detail = fit_summary(meta, 4096, 512 * MIB, 256 * MIB)
    assert fits.startswith("RAM ✗ 1.") and " GPU ✗ " in fits
    assert "512 MiB available" in detail and "256 MiB free" in detail
