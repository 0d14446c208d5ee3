"""Exporting the workbench's results (the results themselves come from
`profiles.result_recorder`, as headless runs make them).

Writing may block, so the app calls it from thread workers only.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from profiles.results import RunResult

ExportFormat = Literal["markdown", "json", "llama-bench"]

SUFFIXES: dict[ExportFormat, str] = {
    "markdown": ".md",
    "json": ".json",
    "llama-bench": ".llama-bench.json",
}


def default_export_path(profile_name: str, fmt: ExportFormat, folder: Path | None = None) -> Path:
    """`llmbench-<profile>-<YYYYmmdd-HHMMSS>.md|.json` in `folder` (default: the current dir)."""
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    return (folder or Path.cwd()) / f"llmbench-{profile_name}-{stamp}{SUFFIXES[fmt]}"


def export_results(results: Sequence[RunResult], path: Path, fmt: ExportFormat) -> Path:
    """Write the comparison to `path` atomically; returns the absolute path."""
    from profiles.atomic import atomic_write_text
    from profiles.json_export import write_json
    from profiles.llama_bench_export import to_llama_bench_json
    from profiles.markdown_export import write_markdown

    path = path.expanduser().absolute()
    if fmt == "llama-bench":
        atomic_write_text(path, to_llama_bench_json(results))
        return path
    writer = write_markdown if fmt == "markdown" else write_json
    writer(results, path)
    return path
