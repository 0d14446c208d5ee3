"""The worker's log file: its name, the redirect, and the lines quoted when things fail."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from engines.local.worker_log import (
    llama_load_error,
    log_tail,
    prune_old_logs,
    worker_log_path,
    worker_log_stem,
)

LOG = """\
llama_model_loader: - kv   0:                       general.architecture str              = nonexistentarch
llama_model_loader: - type  f32:    1 tensors
print_info: file size   = 93.80 MiB
llama_model_load: error loading model: unknown model architecture: 'nonexistentarch'
llama_model_load_from_file_impl: failed to load model
some closing line
"""


def test_log_names_carry_the_model_the_time_and_the_pid(tmp_path: Path) -> None:
    stem = worker_log_stem("my model/v2: Q4")
    assert stem.startswith("my_model_v2_Q4-") and "/" not in stem
    path = worker_log_path(stem, 4242, tmp_path)
    assert path.parent == tmp_path and path.name == f"{stem}-4242.log"
    assert worker_log_stem("///").startswith("model-")


def test_tail_quotes_relevant_lines_and_the_last_ones(tmp_path: Path) -> None:
    log = tmp_path / "w.log"
    log.write_text(LOG)
    tail = log_tail(log)
    assert tail.splitlines() == [
        "llama_model_load: error loading model: unknown model architecture: 'nonexistentarch'",
        "llama_model_load_from_file_impl: failed to load model",
        "some closing line",
    ]
    assert log_tail(tmp_path / "missing.log") == "" and log_tail(None) == ""


def test_tail_without_relevant_lines_is_the_last_lines(tmp_path: Path) -> None:
    log = tmp_path / "w.log"
    log.write_text("".join(f"line {i}\n" for i in range(10)))
    assert log_tail(log) == "line 8\nline 9"


def test_llama_load_error_is_llamas_own_reason() -> None:
    assert llama_load_error(LOG) == "unknown model architecture: 'nonexistentarch'"
    assert llama_load_error("all fine\n") is None


def test_redirect_sends_fds_1_and_2_to_the_file(tmp_path: Path) -> None:
    log = tmp_path / "logs" / "w.log"
    code = (
        "import os, sys\n"
        "from pathlib import Path\n"
        "from engines.local.worker_log import redirect_output_to\n"
        f"redirect_output_to(Path({str(log)!r}))\n"
        "print('to stdout', flush=True)\n"
        "os.write(2, b'to fd 2 from C-like code\\n')\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout == "" and result.stderr == ""
    assert log.read_text() == "to stdout\nto fd 2 from C-like code\n"


def test_old_logs_are_pruned(tmp_path: Path) -> None:
    for index in range(5):
        path = tmp_path / f"w{index}.log"
        path.write_text("x")
        os.utime(path, (time.time() - 100 + index, time.time() - 100 + index))
    prune_old_logs(tmp_path, keep=2)
    assert sorted(p.name for p in tmp_path.glob("*.log")) == ["w3.log", "w4.log"]
