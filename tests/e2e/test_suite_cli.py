"""`llmbench run --prompts` end to end: a 5-prompt suite on both real demo models, headless,
and the one-line refusal of a bad suite file (nothing loaded, nothing recorded)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from profiles.history import read_history

LLMBENCH = Path(sys.executable).parent / "llmbench"
MODELS = ("-m", "demo:smollm2-135m", "-m", "demo:gemma3-270m")
SHORT = ("--max-tokens", "12", "--n-ctx", "512", "--temperature", "0")

SUITE = [
    {
        "id": "add",
        "text": "What is 2 + 2? Answer with the number only.",
        "expect": {"contains": "4"},
    },
    {"id": "capital", "text": "The capital of France is", "expect": {"contains": "Paris"}},
    {"id": "json", "text": 'Return only JSON: {"ok": true}', "expect": {"json": True}},
    {"id": "short", "text": "Say hello.", "expect": {"max_words": 30, "not_contains": "zzz"}},
    {"id": "plain", "text": "Name a colour."},
]


def llmbench(cwd: Path, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [str(LLMBENCH), "run", *args],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=dict(os.environ),
        cwd=cwd,
    )
    assert "Traceback" not in result.stderr + result.stdout, result.stderr
    return result


def write_suite(path: Path) -> Path:
    path.write_text("".join(json.dumps(item) + "\n" for item in SUITE), encoding="utf-8")
    return path


@pytest.mark.real_model
def test_a_five_prompt_suite_on_both_demo_models(isolated_dirs: Path) -> None:
    suite = write_suite(isolated_dirs / "five.jsonl")
    out = isolated_dirs / "suite.json"
    result = llmbench(isolated_dirs, *MODELS, *SHORT, "--prompts", str(suite), "--json", str(out))
    assert result.returncode == 0, result.stderr
    assert "5 prompts x 2 panes = 10 answers" in result.stderr
    assert "[10/10]" in result.stderr and "ETA" in result.stderr

    history, _ = read_history()
    assert len(history) == 10
    assert {r.model_ref for r in history} == {"demo:smollm2-135m", "demo:gemma3-270m"}
    for record in history:
        assert record.suite is not None and record.text
        expected = SUITE[record.suite.prompt_index].get("expect", {})
        assert len(record.suite.checks) == sum(
            len(v) if isinstance(v, list) else 1 for v in expected.values()
        )
        assert record.model.sha256 and record.host  # same provenance as any result

    # every answer's check line and the quality table, per model
    for item in SUITE:
        assert sum(line.split()[:1] == [item["id"]] for line in result.stdout.splitlines()) == 2
    table = result.stdout.split("Quality x cost over the suite:")[1].splitlines()
    assert table[1].startswith("pane") and "checks %" in table[1]
    rows = [line for line in table[2:4]]
    assert all("% (" in row and "/5)" in row for row in rows), rows

    document = json.loads(out.read_text(encoding="utf-8"))
    assert len(document["results"]) == 10 and document["suite"]["prompts"] == 5
    quality = {row["model_ref"]: row for row in document["quality"]}
    for ref in ("demo:smollm2-135m", "demo:gemma3-270m"):
        row = quality[ref]
        assert row["answers"] == 5 and row["checks_total"] == 5
        passed = sum(r["checks_passed"] for r in document["results"] if r["model_ref"] == ref)
        assert row["checks_passed"] == passed
        assert row["decode_tps"] and row["decode_tps"] > 0
        assert row["peak_rss_mib"] and row["peak_rss_mib"] > 0


@pytest.mark.real_model
def test_a_bad_suite_line_is_one_line_and_nothing_runs(isolated_dirs: Path) -> None:
    suite = isolated_dirs / "bad.jsonl"
    suite.write_text('{"text": "fine"}\n{"text": "broken"\n', encoding="utf-8")
    result = llmbench(isolated_dirs, *MODELS, "--prompts", str(suite))
    assert result.returncode == 2
    assert (
        result.stderr.strip()
        == f"llmbench run: {suite}: line 2: not valid JSON (Expecting ',' delimiter)"
    )
    assert result.stdout == ""
    assert read_history() == ([], [])
