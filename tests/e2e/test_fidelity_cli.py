"""`llmbench run --fidelity` end to end: the real console script and the real demo model."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import pytest

from engines.fidelity.reference_text import bundled_text

LLMBENCH = Path(sys.executable).parent / "llmbench"
SMOL = "demo:smollm2-135m"


def _run(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [str(LLMBENCH), "run", *args],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=600,
        env=dict(os.environ),
        cwd=cwd,
    )
    assert "Traceback" not in result.stderr + result.stdout, result.stderr
    return result


@pytest.mark.real_model
@pytest.mark.timeout(900)
def test_fidelity_columns_in_the_table_and_the_csv(isolated_dirs: Path, smollm2_path: Path):
    text = isolated_dirs / "text.txt"
    text.write_text(bundled_text()[:1500], encoding="utf-8")
    out = isolated_dirs / "out.csv"
    result = _run(
        isolated_dirs, "-m", SMOL, "-m", SMOL, "--prompt", "Hi", "--max-tokens", "4",
        "--n-ctx", "256", "--fidelity", "--text", str(text), "--fidelity-ctx", "64",
        "--csv", str(out),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "Fidelity: perplexity over windows of 64 tokens" in result.stdout
    header = next(line for line in result.stdout.splitlines() if line.startswith("pane "))
    assert "PPL" in header and "KLD" in header and "top-1 %" in header
    assert header.index("size MiB") < header.index("decode/s") < header.index("PPL")
    first_row = result.stdout.splitlines()[result.stdout.splitlines().index(header) + 1]
    assert f"{smollm2_path.stat().st_size / 2**20:,.0f}" in first_row  # size beside quality
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert [row["fidelity_n_ctx"] for row in rows] == ["64", "64"]
    assert float(rows[0]["ppl"]) > 1 and rows[0]["kld"] == ""
    assert abs(float(rows[1]["kld"])) < 1e-6 and float(rows[1]["top1_pct"]) == 100.0
    assert "[fidelity 2/2]" in result.stderr


def test_text_without_fidelity_is_a_usage_error(isolated_dirs: Path):
    result = _run(isolated_dirs, "-m", SMOL, "--prompt", "Hi", "--text", "x.txt")
    assert result.returncode == 2
    assert "--text is the text of --fidelity" in result.stderr


def test_a_missing_text_file_is_one_line_before_anything_runs(isolated_dirs: Path):
    result = _run(isolated_dirs, "-m", SMOL, "--prompt", "Hi", "--fidelity", "--text", "nope.txt")
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert "nope.txt: cannot read it" in result.stderr
