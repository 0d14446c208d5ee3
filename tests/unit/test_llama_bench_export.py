"""llama-bench JSON records from llmbench results, read back by llama.cpp's own
`scripts/compare-llama-bench.py` (vendored in llama-cpp-python's sdist; `make llama-tools`
copies it to .llama-tools/scripts)."""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
from pathlib import Path

import pytest
from llama_tools import llama_script
from result_samples import make_result, stats

from profiles.llama_bench_export import (
    LlamaBuild,
    build_from_version,
    llama_bench_records,
    to_llama_bench_json,
)

BUILD = LlamaBuild(commit="0c1e570", number=0)

REQUIRED = (
    "build_commit", "build_number", "cpu_info", "gpu_info", "backends", "model_filename",
    "model_type", "model_size", "model_n_params", "n_batch", "n_ubatch", "n_threads",
    "n_gpu_layers", "n_prompt", "n_gen", "n_depth", "test_time", "avg_ns", "stddev_ns",
    "avg_ts", "stddev_ts", "samples_ns", "samples_ts",
)  # fmt: skip


def _repetitions(decode_speeds: list[float], prompt_speed: float = 800.0, **changes):
    return [
        make_result(
            repetition=index,
            run_stats=stats(decode_tps=speed, prompt_tps=prompt_speed, **changes),
        )
        for index, speed in enumerate(decode_speeds)
    ]


def test_one_pane_makes_a_pp_and_a_tg_test_with_llama_bench_fields():
    records = llama_bench_records([make_result()], BUILD)
    assert [(r["n_prompt"], r["n_gen"], r["n_depth"]) for r in records] == [
        (31 - 4, 0, 4),  # pp: the prompt tokens evaluated, after the 4 cached ones
        (0, 48, 31),  # tg: 48 tokens generated with the 31-token prompt in the context
    ]
    for record in records:
        assert set(REQUIRED) <= set(record)
        assert record["build_commit"] == "0c1e570"
        assert record["cpu_info"] == "AMD EPYC 7B13"
        assert record["gpu_info"] == "NVIDIA H100"
        assert record["model_filename"] == "/models/SmolLM2-135M-Instruct.Q4_1.gguf"
        assert record["model_n_params"] == 134_515_008
        assert record["n_threads"] == 2
        assert record["test_time"] == "2026-03-01T14:25:01Z"
    pp, tg = records
    assert pp["avg_ts"] == pytest.approx(812.5)
    assert pp["avg_ns"] == round(27 / 812.5 * 1e9)
    assert tg["avg_ts"] == pytest.approx(201.25)
    assert tg["avg_ns"] == round(48 / 201.25 * 1e9)
    assert tg["samples_ts"] == [201.25] and tg["stddev_ts"] == 0


def test_repetitions_are_samples_of_one_test():
    speeds = [200.0, 210.0, 190.0]
    records = llama_bench_records(_repetitions(speeds), BUILD)
    tg = next(r for r in records if r["n_gen"])
    assert tg["samples_ts"] == speeds
    assert tg["avg_ts"] == pytest.approx(200.0)
    assert tg["stddev_ts"] == pytest.approx(statistics.stdev(speeds))
    assert tg["samples_ns"] == [round(48 / s * 1e9) for s in speeds]
    assert tg["stddev_ns"] == round(statistics.stdev(tg["samples_ns"]))


def test_unknown_speeds_make_no_test():
    records = llama_bench_records(
        [make_result(run_stats=stats(decode_tps=None, prompt_tps=None))], BUILD
    )
    assert records == []


def test_a_servers_build_info_is_its_build():
    assert build_from_version("b6123-0c1e570") == LlamaBuild("0c1e570", 6123)
    assert build_from_version("0.5.0-dev") is None
    from result_samples import model_info

    served = make_result(info=model_info(llama_cpp_version="b7000-abcdef1"))
    records = llama_bench_records([served], BUILD)
    assert {(r["build_commit"], r["build_number"]) for r in records} == {("abcdef1", 7000)}


def test_local_build_is_llama_cpp_pythons():
    from engines.local.backend import llama_cpp_build

    commit, number = llama_cpp_build()
    assert commit != "unknown" and len(commit) >= 7 and not commit.endswith("-dirty")
    records = llama_bench_records([make_result()])
    assert records[0]["build_commit"] == commit and records[0]["build_number"] == number


def _git_stand_in(folder: Path) -> Path:
    """A stand-in for GitPython (the script imports it only to look for a checkout; with
    -b and -c given, "not a git checkout" is a supported answer)."""
    package = folder / "git_stand_in" / "git"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text(
        "class InvalidGitRepositoryError(Exception):\n    pass\n\n"
        "class Commit:\n    pass\n\n"
        "class Repo:\n"
        "    def __init__(self, *args, **kwargs):\n"
        "        raise InvalidGitRepositoryError(args)\n"
    )
    return package.parent


def compare_llama_bench(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    """Run llama.cpp's compare-llama-bench.py (skips when it or tabulate is missing)."""
    script = llama_script("compare-llama-bench.py")
    if script is None:
        pytest.skip("llama.cpp's scripts/ not copied: run `make llama-tools`")
    pytest.importorskip("tabulate", reason="compare-llama-bench.py needs tabulate")
    import importlib.util
    import os

    env = dict(os.environ)
    if importlib.util.find_spec("git") is None:
        env["PYTHONPATH"] = os.pathsep.join(
            filter(None, [str(_git_stand_in(tmp_path)), env.get("PYTHONPATH")])
        )
    return subprocess.run(
        [sys.executable, str(script), "-t", "llama-bench", *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
        env=env,
    )


def test_compare_llama_bench_reads_llmbench_records(tmp_path: Path):
    baseline, compare = tmp_path / "base.json", tmp_path / "new.json"
    baseline.write_text(to_llama_bench_json(_repetitions([100.0, 100.0]), LlamaBuild("aaaaaaa", 1)))
    compare.write_text(to_llama_bench_json(_repetitions([150.0, 150.0]), LlamaBuild("bbbbbbb", 2)))
    result = compare_llama_bench(
        tmp_path, "-i", str(baseline), "-i", str(compare), "-b", "aaaaaaa", "-c", "bbbbbbb"
    )
    assert result.returncode == 0, result.stderr[-2000:]
    rows = [line for line in result.stdout.splitlines() if "tg48@d31" in line]
    assert len(rows) == 1, result.stdout
    cells = [cell.strip() for cell in rows[0].strip("|").split("|")]
    assert cells[-3:] == ["100.00", "150.00", "1.50"], result.stdout
    assert any("pp27@d4" in line for line in result.stdout.splitlines()), result.stdout


def test_compare_llama_bench_names_a_missing_field(tmp_path: Path):
    """The script really checks the fields (this is what made the records complete)."""
    records = json.loads(to_llama_bench_json([make_result()], BUILD))
    for record in records:
        del record["n_depth"]
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(records))
    result = compare_llama_bench(tmp_path, "-i", str(path), "-b", "0c1e570", "-c", "0c1e570")
    assert result.returncode != 0
    assert "n_depth" in result.stderr
