"""Headless runs on a real worker process (the stand-in engine) whose worker dies mid-answer:
the failure quotes the end of the worker's log, as the README promises."""

from __future__ import annotations

import os
import signal
from pathlib import Path

from gguf_samples import write_sample_gguf

from engines.local.handle import WorkerModelHandle
from engines.types import ModelSettings, SamplingParams
from profiles.plan import PanePlan
from profiles.result_recorder import ResultRecorder
from profiles.runner import run_comparison

STUB = "worker_stub_engine:StubEngine"


def _plan(model: Path) -> PanePlan:
    return PanePlan(
        index=0, label="stub", model_ref=str(model), kind="local",
        settings=ModelSettings(path=str(model), n_ctx=256, n_threads=1, label="stub"),
        sampling=SamplingParams(max_tokens=2_000),
    )  # fmt: skip


def _run(tmp_path: Path, prompt: str, on_progress=None, handles=None):
    model = write_sample_gguf(tmp_path / "tiny-model.gguf")

    def factory(plan):
        handle = WorkerModelHandle(STUB)
        if handles is not None:
            handles.append(handle)
        return handle

    return run_comparison(
        [_plan(model)], prompt, handle_factory=factory, on_progress=on_progress,
        recorder=ResultRecorder(history=False, hash_files=False),
    )  # fmt: skip


def test_a_worker_killed_mid_answer_fails_its_pane_with_the_end_of_its_log(tmp_path) -> None:
    handles: list[WorkerModelHandle] = []
    killed = []

    def kill_once_generating(progress) -> None:
        if progress.phase == "generating" and progress.tokens > 0 and not killed:
            killed.append(True)
            os.kill(handles[0].pid, signal.SIGKILL)

    outcome = _run(tmp_path, "count:0.01", kill_once_generating, handles)
    assert killed and outcome.results == []
    (failure,) = outcome.failures
    assert failure.reason == "the model's worker crashed: killed by signal 9 (SIGKILL)"
    assert "llama_model_load: stub engine loading" in failure.detail  # the log's last lines


def test_a_segfault_mid_answer_quotes_the_fault_from_the_log(tmp_path) -> None:
    outcome = _run(tmp_path, "segfault")
    (failure,) = outcome.failures
    assert "killed by signal 11" in failure.reason
    assert "Segmentation fault" in failure.detail
