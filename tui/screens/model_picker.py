"""Pick a model: the models found on this machine, whether each fits, or any reference.

For E1 (and anyone opening it)::

    self.app.push_screen(ModelPickerScreen(), callback)   # callback gets a reference or None

`ModelPickerScreen` is a modal that dismisses with a model reference string (usable as
`--model REF`) or None when cancelled. It lists what `engines.models.discovery.discover_models()`
finds (demo models, the Hugging Face cache, LM Studio, Ollama, configured folders), then
what the servers in config.toml offer ("served by URL"; `engines.remote.server_listing`), with
parameters, quant, size, trained context, chat template, and whether the model fits in
the RAM that is available now (and in free GPU memory where NVML sees a GPU), using the
estimate in `engines.models.memory_fit`. Discovery and the fit check run in a thread worker: the
screen opens at once and fills in.

One input does two things. Typing filters the list (every word must appear in the row);
↑/↓ move the highlight; Enter takes the highlighted model. Text that is a reference — a
scheme such as `hf:`, `demo:`, `openai:`, or a path (`/`, `./`, `~`, `*.gguf`) — is
taken as written instead: a path must exist, and an `hf:OWNER/REPO:QUANT` that is not in
the Hugging Face cache yet is downloaded first (`engines.models.hub.pull` in a thread worker,
with a progress bar), then returned. Escape cancels, and stops a download at its next
chunk.

Everything slow is injectable, so tests and snapshots pass fixed lists and fake downloads.
What each row says (figures, fit) is worked out in `tui/screens/picker_entries.py`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Input, Label, ProgressBar, Static
from textual.worker import Worker, WorkerState, get_current_worker

from engines.models.discovery import DiscoveredModel
from engines.models.hub import DownloadError, DownloadProgress
from engines.models.memory_fit import available_ram_bytes, free_gpu_bytes
from engines.models.references import ModelRefError, parse_model_ref
from tui.formatting import format_bytes, shorten
from tui.screens.picker_entries import PickerEntry, looks_like_reference, make_entry

PROGRESS_INTERVAL_S = 0.1
"""At most this often does a download's progress reach the screen."""

PICKER_COLUMNS = ("source", "name", "params", "quant", "size", "fits", "context", "chat")
"""The table's columns; "fits" comes before the lesser ones so that 80 columns show it."""


NAME_WIDTH = 28
"""Longer names are shortened in the table (the status line gives the whole reference)."""


class DownloadCancelled(Exception):
    """Raised from the progress callback to stop a download when the picker closes."""


def _default_discover() -> Sequence[DiscoveredModel]:
    """The models on this machine, then what the configured servers offer.

    A bad `servers` entry in config.toml becomes one row that says so, rather than
    hiding the local models.
    """
    from engines.catalog import served_models
    from engines.config import ConfigError, config_file
    from engines.models.discovery import discover_models

    models = discover_models()
    try:
        return models + served_models()
    except ConfigError as error:
        path = str(config_file())
        return [*models, DiscoveredModel("server", path, "config.toml", path, None, str(error))]


def _default_pull(ref: str, progress: Callable[[DownloadProgress], None]) -> Path:
    from engines.models.resolve import pull_model

    return pull_model(ref, progress=progress)


def _default_is_cached(ref: str) -> bool:
    from engines.models.hub import cached_model_path

    return cached_model_path(ref) is not None


class ModelPickerScreen(ModalScreen[str | None]):
    """A modal listing discovered models; dismisses with a model reference, or None."""

    DEFAULT_CSS = """
    ModelPickerScreen {
        align: center middle;
    }
    ModelPickerScreen > #picker {
        width: 96%;
        max-width: 130;
        height: 90%;
        border: thick $primary;
        background: $surface;
        padding: 0 1;
    }
    ModelPickerScreen #picker-title {
        text-style: bold;
        width: 1fr;
    }
    ModelPickerScreen #models {
        height: 1fr;
    }
    ModelPickerScreen #picker-status {
        height: auto;
        max-height: 2;
        color: $text-muted;
    }
    ModelPickerScreen #picker-status.-error {
        color: $error;
    }
    ModelPickerScreen #download {
        display: none;
        width: 1fr;
    }
    ModelPickerScreen #download.-active {
        display: block;
    }
    ModelPickerScreen #picker-hint {
        color: $text-muted;
    }
    """

    BINDINGS = [
        Binding("escape", "cancel", "Cancel"),
        Binding("up", "move(-1)", "Up", show=False),
        Binding("down", "move(1)", "Down", show=False),
        Binding("pageup", "move(-10)", "Page up", show=False),
        Binding("pagedown", "move(10)", "Page down", show=False),
    ]

    def __init__(
        self,
        *,
        discover: Callable[[], Sequence[DiscoveredModel]] | None = None,
        pull: Callable[[str, Callable[[DownloadProgress], None]], Path] | None = None,
        is_cached: Callable[[str], bool] | None = None,
        ram_available: Callable[[], int] = available_ram_bytes,
        gpu_free: Callable[[], int | None] = free_gpu_bytes,
        n_ctx: int = 4096,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._discover = discover or _default_discover
        self._pull = pull or _default_pull
        self._is_cached = is_cached or _default_is_cached
        self._ram_available = ram_available
        self._gpu_free = gpu_free
        self.n_ctx = n_ctx
        """The context size the fit estimate assumes."""
        self.entries: list[PickerEntry] = []
        """Every discovered model, in discovery order (the table shows those that match)."""
        self._downloading = False

    def compose(self) -> ComposeResult:
        with Vertical(id="picker"):
            yield Label("Choose a model", id="picker-title")
            yield Input(
                placeholder="Type to filter, or a reference: hf:OWNER/REPO:QUANT, a .gguf path, demo:NAME",
                id="picker-input",
            )
            yield DataTable(id="models", cursor_type="row", zebra_stripes=True)
            yield Static("Looking for models…", id="picker-status")
            yield ProgressBar(id="download", show_eta=False)
            yield Static(
                "enter: choose · ↑↓: move · esc: cancel · fits: estimate vs free memory now",
                id="picker-hint",
            )

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        for column in PICKER_COLUMNS:
            table.add_column(column, key=column)
        table.can_focus = False  # the input keeps focus; ↑↓ and clicks move the highlight
        self.query_one(Input).focus()
        self.discover_models()

    # --- discovery -----------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="model-picker-discovery")
    def discover_models(self) -> None:
        """Find the models and check each one's fit, off the UI thread."""
        try:
            models = list(self._discover())
            ram = self._ram_available()
            gpu = self._gpu_free()
            entries = [make_entry(model, self.n_ctx, ram, gpu) for model in models]
        except Exception as error:  # a broken discovery source must not take the picker down
            self.app.call_from_thread(self._set_status, f"Could not list models: {error}", True)
            return
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._show_entries, entries)

    def _show_entries(self, entries: list[PickerEntry]) -> None:
        self.entries = entries
        self._refill_table()

    def visible_entries(self) -> list[PickerEntry]:
        """The entries that match the filter text, in order."""
        text = self.query_one(Input).value
        if looks_like_reference(text):
            return self.entries
        words = text.lower().split()
        return [entry for entry in self.entries if entry.matches(words)]

    def _refill_table(self) -> None:
        table = self.query_one(DataTable)
        table.clear()
        visible = self.visible_entries()
        for entry in visible:
            table.add_row(
                entry.source, shorten(entry.name, NAME_WIDTH), entry.params, entry.quant, entry.size,
                entry.fits, entry.context, entry.chat, key=entry.ref,
            )  # fmt: skip
        if not self.entries:
            self._set_status("No models found. Enter a .gguf path or hf:OWNER/REPO:QUANT.")
        elif not visible:
            self._set_status("No model matches; Enter takes the text as a reference.")
        else:
            self._describe_highlighted()

    def highlighted_entry(self) -> PickerEntry | None:
        """The entry under the table's highlight, if any row is shown."""
        table = self.query_one(DataTable)
        visible = self.visible_entries()
        if not visible or not 0 <= table.cursor_row < len(visible):
            return None
        return visible[table.cursor_row]

    def _describe_highlighted(self) -> None:
        entry = self.highlighted_entry()
        if entry is not None:
            self._set_status(entry.detail, error=entry.problem is not None)

    def _set_status(self, text: str, error: bool = False) -> None:
        status = self.query_one("#picker-status", Static)
        status.update(text)
        status.set_class(error, "-error")

    # --- input ---------------------------------------------------------------------------

    @on(Input.Changed, "#picker-input")
    def _filter_changed(self) -> None:
        if not self._downloading:
            self._refill_table()

    def action_move(self, rows: int) -> None:
        table = self.query_one(DataTable)
        if table.row_count:
            table.move_cursor(row=min(max(table.cursor_row + rows, 0), table.row_count - 1))

    @on(DataTable.RowHighlighted)
    def _row_highlighted(self) -> None:
        if not self._downloading:
            self._describe_highlighted()

    @on(DataTable.RowSelected)
    def _row_selected(self, event: DataTable.RowSelected) -> None:
        if self._downloading or event.row_key.value is None:
            return
        entry = next((e for e in self.entries if e.ref == event.row_key.value), None)
        if entry is not None:
            self._choose(entry)

    def _choose(self, entry: PickerEntry) -> None:
        """Dismiss with the entry's reference, or say why it cannot be chosen."""
        if entry.problem is not None:
            self._set_status(entry.detail, error=True)
        else:
            self.dismiss(entry.ref)

    @on(Input.Submitted, "#picker-input")
    def _submitted(self, event: Input.Submitted) -> None:
        if self._downloading:
            return
        text = event.value.strip()
        entry = self.highlighted_entry()
        if not looks_like_reference(text) and entry is not None:
            self._choose(entry)
        elif text:
            self.choose_reference(text)

    def choose_reference(self, text: str) -> None:
        """Take a typed reference: check it, download an uncached hf: model, then dismiss."""
        try:
            ref = parse_model_ref(text)
        except ModelRefError as error:
            self._set_status(str(error), error=True)
            return
        if ref.kind == "path" and not Path(ref.path or "").is_file():
            self._set_status(f"No model matches and there is no file {text!r}.", error=True)
            return
        if ref.kind == "hf" and not self._is_cached(text):
            self._start_download(text)
            return
        self.dismiss(text)

    # --- downloads -----------------------------------------------------------------------

    def _start_download(self, ref: str) -> None:
        self._downloading = True
        self.query_one(Input).disabled = True
        self.query_one("#download", ProgressBar).add_class("-active")
        self._set_status(f"Downloading {ref}…")
        self.download(ref)

    @work(thread=True, exclusive=True, group="model-picker-download", exit_on_error=False)
    def download(self, ref: str) -> str | None:
        """Download `ref` into the Hugging Face cache, showing progress; returns `ref` when done.

        A failure (DownloadError, ModelRefError, OSError) ends the worker in the ERROR state,
        which `_download_ended` shows; a cancelled download returns None.
        """
        worker = get_current_worker()
        last_shown = 0.0

        def progress(update: DownloadProgress) -> None:
            nonlocal last_shown
            if worker.is_cancelled:
                raise DownloadCancelled(ref)
            now = time.monotonic()
            if now - last_shown >= PROGRESS_INTERVAL_S or update.downloaded == update.total:
                last_shown = now
                self.app.call_from_thread(self._show_progress, update)

        try:
            self._pull(ref, progress)
        except DownloadCancelled:
            return None
        return ref

    @on(Worker.StateChanged)
    def _download_ended(self, event: Worker.StateChanged) -> None:
        worker = event.worker
        if worker.group != "model-picker-download" or worker.is_cancelled:
            return
        if event.state == WorkerState.SUCCESS and worker.result:
            self.dismiss(worker.result)
        elif event.state == WorkerState.ERROR:
            error = worker.error
            known = isinstance(error, DownloadError | ModelRefError | OSError)
            self._download_failed(str(error) if known else f"Download failed: {error!r}")

    def _show_progress(self, update: DownloadProgress) -> None:
        bar = self.query_one("#download", ProgressBar)
        bar.update(total=update.total, progress=update.downloaded)
        done = format_bytes(update.downloaded)
        total = f" of {format_bytes(update.total)}" if update.total else ""
        shard = (
            f" (file {update.file_index} of {update.file_count})" if update.file_count > 1 else ""
        )
        self._set_status(f"Downloading {update.filename}{shard}: {done}{total}")

    def _download_failed(self, message: str) -> None:
        self._downloading = False
        self.query_one(Input).disabled = False
        self.query_one(Input).focus()
        self.query_one("#download", ProgressBar).remove_class("-active")
        self._set_status(message, error=True)

    def action_cancel(self) -> None:
        self.workers.cancel_group(self, "model-picker-download")
        self.dismiss(None)
