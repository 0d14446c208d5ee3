"""Exports of a suite run: every answer with its check results, and the quality × cost table.

- JSON: the usual export (`profiles.json_export.to_json`) with a `suite` block (run id, name,
  prompts), the `quality` rows (`profiles.quality_table`) and each record's checks;
- CSV: one row per answer (`result_to_record` fields), then the suite columns (prompt id,
  checks passed/made, the failed checks) and the pane's quality figures (`quality_*`);
- Markdown: the quality table, then each prompt with every pane's answer and checks.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from engines.messages import one_line
from profiles.export_fields import result_to_record
from profiles.json_export import to_json
from profiles.quality_table import (
    QUALITY_COLUMNS,
    QualityRow,
    quality_caption,
    quality_cells,
    quality_rows,
)

if TYPE_CHECKING:
    from profiles.results import RunResult
    from profiles.standings import Standing


def suite_fields(result: RunResult) -> dict[str, Any]:
    """The suite columns of one answer (empty values outside a suite run)."""
    tag = result.suite
    if tag is None:
        return {
            "suite_run_id": None,
            "suite": None,
            "prompt_id": None,
            "prompt_index": None,
            "checks_passed": None,
            "checks_total": None,
            "checks_failed": None,
            "concurrency": None,
        }
    return {
        "suite_run_id": tag.run_id,
        "suite": tag.suite,
        "prompt_id": tag.prompt_id,
        "prompt_index": tag.prompt_index,
        "checks_passed": tag.checks_passed,
        "checks_total": len(tag.checks),
        "checks_failed": "; ".join(c.name for c in tag.checks if not c.passed) or None,
        "concurrency": tag.concurrency,
    }


def _quality_fields(row: QualityRow | None) -> dict[str, Any]:
    record = row.to_record() if row else {}
    wanted = (
        "checks_pct",
        "win_rate",
        "win_low",
        "win_high",
        "rating",
        "votes",
        "median_ttft_s",
        "decode_tps",
        "tokens_per_answer",
        "peak_rss_mib",
        "gpu_mem_mib",
        "energy_per_answer_j",
    )
    return {f"quality_{name}": record.get(name) for name in wanted}


def _row_of(rows: Sequence[QualityRow], result: RunResult) -> QualityRow | None:
    for row in rows:
        if (row.pane_index, row.label, row.model_ref) == (
            result.pane_index,
            result.pane_label,
            result.model_ref,
        ):
            return row
    return None


def suite_to_json(
    results: Sequence[RunResult],
    standings: Mapping[str, Standing] | None = None,
    *,
    mode: str | None = None,
    host: dict[str, Any] | None = None,
) -> str:
    """The JSON export with the suite, its quality rows and each answer's checks."""
    document = json.loads(to_json(results, mode=mode, host=host))
    rows = quality_rows(results, standings)
    tags = [r.suite for r in results if r.suite]
    if tags:
        document["suite"] = {
            "run_id": tags[0].run_id,
            "name": tags[0].suite,
            "digest": tags[0].digest,
            "prompts": tags[0].prompt_count,
        }
    document["quality"] = [row.to_record() for row in rows]
    document["quality_note"] = quality_caption(rows, document.get("mode"))
    for record, result in zip(document["results"], results, strict=True):
        record.update(suite_fields(result))
        record["checks"] = (
            [check.model_dump(mode="json") for check in result.suite.checks] if result.suite else []
        )
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def suite_to_csv(
    results: Sequence[RunResult], standings: Mapping[str, Standing] | None = None
) -> str:
    """One row per answer: the usual fields, the suite's, and the pane's quality figures."""
    rows = quality_rows(results, standings)
    buffer = io.StringIO()
    records = [
        {
            **result_to_record(result),
            **suite_fields(result),
            **_quality_fields(_row_of(rows, result)),
        }
        for result in results
    ]
    if not records:
        return ""
    writer = csv.DictWriter(buffer, fieldnames=list(records[0]), lineterminator="\n")
    writer.writeheader()
    for record in records:
        writer.writerow({key: _csv_value(value) for key, value in record.items()})
    return buffer.getvalue()


def _csv_value(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False)
    return value


def suite_to_markdown(
    results: Sequence[RunResult],
    standings: Mapping[str, Standing] | None = None,
    *,
    mode: str | None = None,
) -> str:
    """The quality × cost table, then each prompt with every pane's answer and checks."""
    rows = quality_rows(results, standings)
    tags = [r.suite for r in results if r.suite]
    name = tags[0].suite if tags else "suite"
    lines = [f"# Suite: {name}", ""]
    modes = {r.mode for r in results}
    mode = mode or (modes.pop() if len(modes) == 1 else None)
    if tags:
        lines.append(f"- Run: {tags[0].run_id} ({tags[0].prompt_count} prompts)")
    caption = quality_caption(rows, mode)
    if caption:
        lines.append(f"- Mode: {mode} ({caption})")
    lines += ["", "## Quality × cost", ""]
    headers = ["pane", *(title for title, _ in QUALITY_COLUMNS)]
    lines.append("| " + " | ".join(headers) + " |")
    lines.append("| " + " | ".join(["---", *["---:" for _ in QUALITY_COLUMNS]]) + " |")
    for row in rows:
        cells = [row.label, *quality_cells(row)]
        lines.append("| " + " | ".join(_cell(cell) for cell in cells) + " |")
    lines.append("")
    by_prompt: dict[tuple[int, str], list[RunResult]] = {}
    for result in results:
        key = (result.suite.prompt_index, result.suite.prompt_id) if result.suite else (0, "")
        by_prompt.setdefault(key, []).append(result)
    for (_, prompt_id), answers in sorted(by_prompt.items()):
        lines += [f"## Prompt {prompt_id}", ""]
        lines += [f"> {line}" if line else ">" for line in answers[0].prompt.splitlines()]
        lines.append("")
        for result in answers:
            lines += _answer(result)
    return "\n".join(lines).rstrip("\n") + "\n"


def _answer(result: RunResult) -> list[str]:
    fence = "`" * max(3, max((len(r) for r in re.findall(r"`+", result.text)), default=0) + 1)
    lines = [f"### {one_line(result.pane_label)}", ""]
    if result.suite and result.suite.checks:
        marks = ", ".join(
            f"{'✓' if check.passed else '✗'} {check.name}" for check in result.suite.checks
        )
        lines += [f"Checks: {_cell(marks)}", ""]
    lines += [f"{fence}text", result.text, fence, ""]
    return lines


def _cell(text: str) -> str:
    return one_line(text).replace("|", "\\|")
