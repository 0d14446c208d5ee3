"""The CSV export of a comparison's results: one row per result, safe to open in a spreadsheet.

The columns are the fields of `profiles.export_fields.result_to_record`; unknown figures are
empty cells, never 0, and text a spreadsheet would run as a formula is made plain.
"""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Sequence
from typing import Any

from profiles.atomic import atomic_write_text
from profiles.export_fields import result_to_record
from profiles.result_parts import Figures, ModelRecord, SamplingRecord
from profiles.results import RunResult


def to_csv(results: Sequence[RunResult]) -> str:
    """One row per result with the fields of `result_to_record` (lists as JSON, None empty).

    Text cells that start with `=`, `+`, `-`, `@` (or a tab or carriage return) get a leading
    `'`, so a spreadsheet shows a model's answer instead of running it as a formula;
    numbers stay numbers (a negative log-probability is not text). Lines end in CRLF (RFC
    4180), so a cell holding a lone carriage return is quoted too.
    """
    buffer = io.StringIO()
    records = [result_to_record(result) for result in results]
    columns = list(records[0]) if records else list(_empty_record_columns())
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\r\n")
    writer.writeheader()
    for record in records:
        writer.writerow({key: _csv_value(value) for key, value in record.items()})
    return buffer.getvalue()


def _empty_record_columns() -> list[str]:
    """The columns of an export without results: those of any record."""
    sample = RunResult(
        id="",
        created_at="",
        pane_label="",
        mode="sequential",
        model_ref="",
        prompt="",
        text="",
        figures=Figures(
            stop_reason="stop", prompt_mode="chat", prompt_tokens=0, generated_tokens=0
        ),
        sampling=SamplingRecord(
            temperature=0, top_p=0, top_k=0, min_p=0, repeat_penalty=1, max_tokens=1, seed=0
        ),
        model=ModelRecord(
            path="", file_name="", n_ctx=0, n_gpu_layers_requested=0, n_gpu_layers_offloaded=0
        ),
    )
    return list(result_to_record(sample))


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""A cell starting with one of these is run as a formula by spreadsheets (OWASP's list)."""


def _csv_value(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, list | dict):
        value = json.dumps(value, ensure_ascii=False)
    if isinstance(value, str):
        return neutralise_formula(value)
    return value


def neutralise_formula(text: str) -> str:
    """Text a spreadsheet would run as a formula, made plain by a leading apostrophe."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def write_csv(
    results: Sequence[RunResult], path: str | os.PathLike[str], mode: str | None = None
) -> None:
    """Write `to_csv` to `path` atomically (`mode` is in every row already)."""
    atomic_write_text(path, to_csv(results))
