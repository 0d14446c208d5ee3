"""Suite exports (profiles.suite_export) and the suite progress printer: the quality table
and each answer's checks in JSON, CSV and Markdown; plain progress lines with an ETA."""

from __future__ import annotations

import csv
import io
import json

from test_suite_run import factory, plan, suite

from engines.fake import FakeScript
from profiles.runner import run_comparison
from profiles.standings import Standing
from profiles.suite_export import suite_to_csv, suite_to_json, suite_to_markdown
from profiles.suite_run import plan_suite_run
from tui.commands.suite_output import SuiteProgressPrinter, eta_text


def suite_results():
    plans = [plan(0), plan(1)]
    run = plan_suite_run(suite(2), plans, profile_name="p")
    scripts = {1: FakeScript(tokens=("world",))}
    outcome = run_comparison(
        plans, "", handle_factory=factory(scripts), items_for=run.items_for, history=False
    )
    return run, run.results(outcome)


STANDINGS = {
    "/models/pane1.gguf": Standing(
        model="/models/pane1.gguf",
        votes=5,
        wins=3.0,
        win_rate=0.6,
        win_low=0.3,
        win_high=0.85,
        rating=None,
    )
}


def test_json_holds_the_suite_the_quality_rows_and_each_answers_checks() -> None:
    run, results = suite_results()
    document = json.loads(suite_to_json(results, STANDINGS, mode="sequential", host={}))
    assert document["suite"] == {
        "run_id": run.run_id,
        "name": "tiny",
        "digest": run.suite.digest,
        "prompts": 2,
    }
    quality = {row["label"]: row for row in document["quality"]}
    assert quality["pane0"]["checks_pct"] == 50.0 and quality["pane1"]["checks_pct"] == 100.0
    assert quality["pane1"]["win_rate"] == 0.6 and quality["pane0"]["win_rate"] is None
    first = document["results"][0]
    assert first["prompt_id"] == "q0" and first["checks_passed"] == 1
    assert [c["kind"] for c in first["checks"]] == ["contains", "max_words"]
    assert first["checks_failed"] == "max_words 1"


def test_csv_has_a_row_per_answer_with_its_panes_quality_figures() -> None:
    _, results = suite_results()
    rows = list(csv.DictReader(io.StringIO(suite_to_csv(results, STANDINGS))))
    assert len(rows) == 4
    assert [(r["pane_label"], r["prompt_id"]) for r in rows] == [
        ("pane0", "q0"),
        ("pane0", "q1"),
        ("pane1", "q0"),
        ("pane1", "q1"),
    ]
    assert rows[0]["quality_checks_pct"] == "50.0" and rows[2]["quality_win_rate"] == "0.6"
    assert rows[0]["quality_win_rate"] == ""


def test_markdown_shows_the_table_then_each_prompts_answers_with_marks() -> None:
    _, results = suite_results()
    text = suite_to_markdown(results, STANDINGS, mode="sequential")
    assert "| pane0 | 50 % (2/4) | — |" in text
    assert "| pane1 | 100 % (4/4) | 60 % (30–85 %, 5 votes) |" in text
    assert text.count("## Prompt q") == 2
    assert '✓ contains "world", ✗ max_words 1' in text


def test_progress_lines_count_answers_and_give_an_eta() -> None:
    now = [0.0]
    stream = io.StringIO()
    printer = SuiteProgressPrinter(stream, total=4, tty=False, clock=lambda: now[0])
    assert printer.eta_s() is None
    from profiles.run_report import PaneProgress

    for seconds in (2.0, 4.0):
        now[0] = seconds
        printer(PaneProgress(0, "pane0", "generated", message="4 tokens", items=4))
    lines = stream.getvalue().splitlines()
    assert lines == [
        "[1/4] pane0: prompt 1/4: 4 tokens (ETA 6s)",
        "[2/4] pane0: prompt 1/4: 4 tokens (ETA 4s)",
    ]
    assert eta_text(3725) == "1h02m" and eta_text(185) == "3m05s" and eta_text(None) == "—"
