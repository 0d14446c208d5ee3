"""`llmbench run --logprobs N` and `--seeds N` end to end: the real command, the real demo model."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

from profiles.history import read_history

LLMBENCH = Path(sys.executable).parent / "llmbench"
SMOL = "demo:smollm2-135m"
PROMPT = "Write one sentence about the sea."


def llmbench(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [str(LLMBENCH), "run", *args],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=300,
        env=dict(os.environ),
        cwd=cwd,
    )
    assert "Traceback" not in result.stderr + result.stdout, result.stderr
    return result


@pytest.mark.real_model
def test_logprobs_reach_the_json_export_in_openai_shape(isolated_dirs: Path) -> None:
    out = isolated_dirs / "out.json"
    result = llmbench(
        "-m", SMOL, "--prompt", PROMPT, "--temperature", "0.8", "--max-tokens", "12",
        "--n-ctx", "512", "--logprobs", "3", "--json", str(out), cwd=isolated_dirs,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    (record,) = json.loads(out.read_text(encoding="utf-8"))["results"]
    content = record["logprobs"]["content"]
    assert len(content) == record["n_gen"] == 12
    assert "".join(entry["token"] for entry in content) == record["text"]
    for entry in content:
        assert set(entry) >= {"token", "logprob", "bytes", "top_logprobs"}
        assert len(entry["top_logprobs"]) == 3 and entry["logprob"] <= 0
        assert sum(math.exp(c["logprob"]) for c in entry["top_logprobs"]) <= 1 + 1e-4
    mean = sum(entry["logprob"] for entry in content) / len(content)
    assert record["mean_logprob"] == pytest.approx(mean, abs=1e-4)
    assert record["perplexity"] == pytest.approx(math.exp(-mean), rel=1e-3)
    assert record["mean_entropy"] >= 0
    assert "Token probabilities" in result.stdout and "perplexity" in result.stdout
    (kept,), _problems = read_history()
    assert kept.logprobs is None and kept.figures.mean_entropy == record["mean_entropy"]


@pytest.mark.real_model
def test_seeds_show_distinct_answers_per_temperature(isolated_dirs: Path) -> None:
    out = isolated_dirs / "out.json"
    result = llmbench(
        "-m", SMOL, "--prompt", PROMPT, "--temperature", "0,1.5", "--max-tokens", "8",
        "--n-ctx", "512", "--seeds", "2", "--json", str(out), "--no-history", cwd=isolated_dirs,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    records = json.loads(out.read_text(encoding="utf-8"))["results"]
    assert sorted((r["temperature"], r["seed"]) for r in records) == [
        (t, s) for t in (0.0, 1.5) for s in (1, 2)
    ]
    spread = result.stdout[result.stdout.index("Answers over seeds:") :].splitlines()
    greedy = next(line for line in spread if line.startswith(SMOL) and " 0 " in f"{line} ")
    assert "1 of 2" in greedy and greedy.rstrip().endswith("1.00")
    hot = next(line for line in spread if line.startswith(SMOL) and "1.5" in line)
    assert "2 of 2" in hot


def test_seed_and_seeds_together_are_a_usage_error(isolated_dirs: Path) -> None:
    result = llmbench("-m", SMOL, "--prompt", "x", "--seed", "1", "--seeds", "2", cwd=isolated_dirs)
    assert result.returncode == 2
    assert "pass either --seed or --seeds, not both" in result.stderr
