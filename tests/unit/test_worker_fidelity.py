"""Fidelity passes through the worker process machinery (the stub engine, no llama.cpp)."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest
from gguf_samples import write_sample_gguf
from test_worker_process import STUB, collect, loaded_handle

from engines.fidelity.figures import FidelityRequest
from engines.local.handle import WorkerModelHandle
from engines.protocol import FidelityFinished, FidelityProgressed, WorkerCrashed


def ended(event) -> bool:
    return isinstance(event, FidelityFinished)


@pytest.fixture
def stub(tmp_path: Path):
    handle, events = loaded_handle(write_sample_gguf(tmp_path / "tiny.gguf"))
    yield handle
    handle.close()


def test_a_pass_reports_progress_then_its_figures(stub: WorkerModelHandle) -> None:
    assert stub.can_evaluate
    stub.evaluate(FidelityRequest(text="some text", n_ctx=64, request_id="f1"))
    events = collect(stub, ended)
    assert any(isinstance(e, FidelityProgressed) and e.request_id == "f1" for e in events)
    figures = events[-1].figures
    assert events[-1].request_id == "f1" and figures.ppl == 2.0 and figures.error is None


def test_cancel_stops_a_pass(stub: WorkerModelHandle) -> None:
    stub.evaluate(FidelityRequest(text="hang", n_ctx=64, request_id="f2"))
    collect(stub, lambda e: isinstance(e, FidelityProgressed))
    stub.cancel()
    assert collect(stub, ended)[-1].figures.cancelled


def test_a_worker_killed_mid_pass_finishes_it_with_the_reason(stub: WorkerModelHandle) -> None:
    stub.evaluate(FidelityRequest(text="hang", n_ctx=64, request_id="f3"))
    collect(stub, lambda e: isinstance(e, FidelityProgressed))
    os.kill(stub.pid, signal.SIGKILL)
    events = collect(stub, lambda e: isinstance(e, WorkerCrashed), timeout=5)
    finished = [e for e in events if ended(e)]
    assert len(finished) == 1 and finished[0].request_id == "f3"
    assert "killed by signal 9" in finished[0].figures.error


def test_close_mid_pass_finishes_it_cancelled(stub: WorkerModelHandle) -> None:
    stub.evaluate(FidelityRequest(text="hang", n_ctx=64, request_id="f4"))
    collect(stub, lambda e: isinstance(e, FidelityProgressed))
    stub.close()
    assert collect(stub, ended)[-1].figures.cancelled


def test_a_pass_before_loading_fails_at_once() -> None:
    handle = WorkerModelHandle(STUB)
    handle.evaluate(FidelityRequest(text="x", request_id="early"))
    (event,) = handle.next_events(1.0)
    assert isinstance(event, FidelityFinished) and event.figures.error == "the model is not loaded"
