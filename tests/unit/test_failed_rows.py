"""A headless run's exports hold every row of its table: failed panes as "error" rows."""

from __future__ import annotations

import csv
import io
import json

from engines.fake import FakeModelHandle, FakeScript
from engines.types import ModelSettings, SamplingParams
from profiles.csv_export import to_csv
from profiles.failed_rows import export_rows
from profiles.json_export import to_json
from profiles.plan import PanePlan
from profiles.runner import run_comparison


def plan(index: int, label: str, error: str | None = None) -> PanePlan:
    return PanePlan(
        index=index, label=label, model_ref=f"demo:{label}", kind="local",
        settings=ModelSettings(path=f"/m/{label}.gguf", n_ctx=512, n_threads=1, label=label),
        sampling=SamplingParams(max_tokens=8), error=error,
    )  # fmt: skip


def test_failed_panes_are_exported_in_pane_order_with_their_reasons() -> None:
    scripts = {
        0: FakeScript(),
        1: FakeScript(fail_load="not a GGUF file"),
        2: FakeScript(fail_generation="prompt is 3000 tokens; the context holds 2048"),
    }
    plans = [plan(0, "good"), plan(1, "noload"), plan(2, "broken"), plan(3, "missing", "no file")]
    outcome = run_comparison(
        plans, "Hi", repeat=2, history=False,
        handle_factory=lambda p: FakeModelHandle(scripts[p.index]),
    )  # fmt: skip
    rows = export_rows(plans, outcome, prompt="Hi", profile_name="p")
    assert [(r.pane_label, r.repetition, r.figures.stop_reason) for r in rows] == [
        ("good", 0, "stop"),
        ("good", 1, "stop"),
        ("noload", 0, "error"),
        ("broken", 0, "error"),
        ("missing", 0, "error"),
    ]
    assert "not a GGUF file" in rows[2].figures.error
    assert "3000 tokens" in rows[3].figures.error
    assert rows[4].figures.error == "no file"
    failed = rows[2]
    assert failed.model.file_name == "noload.gguf" and failed.model_ref == "demo:noload"
    assert failed.figures.decode_tps is None and failed.figures.ttft_s is None  # unknown, not 0
    assert failed.prompt == "Hi" and failed.profile == "p" and failed.mode == "sequential"
    records = json.loads(to_json(rows))["results"]
    assert [r["stop_reason"] for r in records] == ["stop", "stop", "error", "error", "error"]
    csv_rows = list(csv.DictReader(io.StringIO(to_csv(rows))))
    assert len(csv_rows) == 5 and csv_rows[2]["decode_tps"] == ""
