"""The worker path with the real engine and the real demo models (llama.cpp in a child process).

Kept few and short: the machine is small and shared. One SmolLM2 worker is loaded per
module and reused where a fresh one is not the point of the test.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import gguf
import numpy as np
import psutil
import pytest

from engines.local.handle import WorkerModelHandle
from engines.protocol import (
    Event,
    GenerationFinished,
    LoadFailed,
    ModelLoaded,
    SamplingChanged,
    TokensGenerated,
    WorkerCrashed,
)
from engines.types import GenerationRequest, GenerationStats, ModelSettings, SamplingParams

pytestmark = pytest.mark.real_model

N_CTX = 512
STORY = "Write a long story about a dragon who learns to bake bread."


def collect(
    handle: WorkerModelHandle, done: Callable[[Event], bool], timeout: float = 120.0
) -> list[Event]:
    """Events until a batch holds one that satisfies `done` (the whole batch is kept)."""
    events: list[Event] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        batch = handle.next_events(0.5)
        events.extend(batch)
        if any(done(event) for event in batch):
            return events
    raise AssertionError(f"timed out after {timeout} s; events so far: {events}")


def load(path: Path, label: str = "", n_ctx: int = N_CTX) -> tuple[WorkerModelHandle, Event]:
    handle = WorkerModelHandle()
    handle.load(ModelSettings(path=str(path), n_ctx=n_ctx, n_threads=1, label=label or path.stem))
    events = collect(handle, lambda e: isinstance(e, ModelLoaded | LoadFailed | WorkerCrashed))
    return handle, events[-1]


def loaded(path: Path) -> WorkerModelHandle:
    handle, outcome = load(path)
    assert isinstance(outcome, ModelLoaded), outcome
    return handle


def request(prompt: str = STORY, request_id: str = "r", **sampling) -> GenerationRequest:
    values = {"temperature": 0.0, "max_tokens": 16, "seed": 7} | sampling
    return GenerationRequest(prompt, SamplingParams(**values), request_id=request_id)


def finish(handle: WorkerModelHandle, request_id: str) -> tuple[str, GenerationStats, list[Event]]:
    events = collect(
        handle, lambda e: isinstance(e, GenerationFinished) and e.request_id == request_id
    )
    text = "".join(
        e.text for e in events if isinstance(e, TokensGenerated) and e.request_id == request_id
    )
    (done,) = [
        e for e in events if isinstance(e, GenerationFinished) and e.request_id == request_id
    ]
    return text, done.stats, events


@pytest.fixture(scope="module")
def smollm2(smollm2_path: Path) -> Iterator[WorkerModelHandle]:
    handle = loaded(smollm2_path)
    yield handle
    handle.close()


@pytest.mark.parametrize(
    ("model", "mode"), [("smollm2_path", "chat"), ("gemma_path", "completion")]
)
def test_each_demo_model_generates_in_its_worker_and_ends_with_it(
    request_fixture, model, mode, capfd
) -> None:
    path = request_fixture(model)
    handle = loaded(path)
    pid = handle.pid
    try:
        handle.generate(request(max_tokens=12))
        text, stats, events = finish(handle, "r")
        assert stats.stop_reason in ("length", "stop") and stats.error is None
        assert stats.prompt_mode == mode and stats.prompt_tokens > 0
        assert stats.generated_tokens >= 2 and text.strip()
        assert stats.ttft_s is not None and 0 < stats.ttft_s < stats.elapsed_s
        assert (
            stats.decode_tps and stats.engine_decode_tps and stats.delivery_lag_p95_ms is not None
        )
        batches = [e for e in events if isinstance(e, TokensGenerated)]
        assert sum(b.n_tokens for b in batches) == stats.generated_tokens
        assert "\ufffd" not in text
        assert handle.log_path.is_file()  # its content is checked by the failing-load tests
    finally:
        handle.close()
    assert not psutil.pid_exists(pid)  # unloading ends the process: its memory comes back
    captured = capfd.readouterr()
    assert captured.out == "" and captured.err == "", "llama.cpp printed to the terminal"


@pytest.fixture
def request_fixture(request: pytest.FixtureRequest) -> Callable[[str], Path]:
    return request.getfixturevalue


def test_cancel_stops_the_generation(smollm2: WorkerModelHandle) -> None:
    smollm2.generate(request(request_id="cancel", max_tokens=48, temperature=0.8))
    collect(smollm2, lambda e: isinstance(e, TokensGenerated))
    smollm2.cancel()
    _text, stats, _ = finish(smollm2, "cancel")
    assert stats.stop_reason == "cancelled"
    assert 0 < stats.generated_tokens < 48


def test_live_temperature_change_takes_effect_mid_run(smollm2: WorkerModelHandle) -> None:
    smollm2.generate(request(request_id="live", max_tokens=48, temperature=0.0))
    collect(smollm2, lambda e: isinstance(e, TokensGenerated))
    hot = SamplingParams(temperature=1.5, max_tokens=48, seed=7)
    smollm2.update_sampling(hot)
    _text, stats, events = finish(smollm2, "live")
    changes = [e for e in events if isinstance(e, SamplingChanged)]
    assert len(changes) == 1 and changes[0].sampling == hot
    assert 0 < changes[0].at_token <= stats.generated_tokens
    assert [c.at_token for c in stats.sampling_changes] == [changes[0].at_token]


def test_same_seed_same_text_across_two_workers(
    smollm2: WorkerModelHandle, smollm2_path: Path
) -> None:
    other = loaded(smollm2_path)
    try:
        sampled = {"temperature": 1.0, "max_tokens": 20, "seed": 1234}
        smollm2.generate(request(request_id="a", **sampled))
        other.generate(request(request_id="b", **sampled))
        first, _, _ = finish(smollm2, "a")
        second, _, _ = finish(other, "b")
        assert first == second and first.strip()
        other.generate(request(request_id="c", **(sampled | {"seed": 98765})))
        third, _, _ = finish(other, "c")
        assert third != first  # the seed matters: this is not greedy decoding in disguise
    finally:
        other.close()


def test_prompt_longer_than_the_context_fails_the_run_not_the_worker(
    smollm2: WorkerModelHandle,
) -> None:
    smollm2.generate(request(" ".join(["bread"] * 3 * N_CTX), request_id="long"))
    _text, stats, _ = finish(smollm2, "long")
    assert stats.stop_reason == "error" and stats.error and "\n" not in stats.error
    assert "context" in stats.error
    assert smollm2.alive
    smollm2.generate(request("Hi!", request_id="after", max_tokens=4))
    assert finish(smollm2, "after")[1].stop_reason in ("length", "stop")


def test_a_killed_worker_is_reported_within_a_second_while_another_carries_on(
    smollm2: WorkerModelHandle, smollm2_path: Path
) -> None:
    victim = loaded(smollm2_path)
    try:
        smollm2.generate(request(request_id="survivor", max_tokens=32, temperature=0.7))
        victim.generate(request(request_id="victim", max_tokens=48, temperature=0.7))
        collect(victim, lambda e: isinstance(e, TokensGenerated))
        pid = victim.pid
        killed_at = time.perf_counter()
        os.kill(pid, signal.SIGKILL)
        events = collect(victim, lambda e: isinstance(e, WorkerCrashed), timeout=5)
        assert time.perf_counter() - killed_at < 1.0
        crash = events[-1]
        assert crash.reason == "killed by signal 9 (SIGKILL)"
        assert crash.log_tail  # the worker's log is quoted
        victim_done = [e for e in events if isinstance(e, GenerationFinished)]
        assert [e.stats.stop_reason for e in victim_done] == ["error"]
        assert not victim.alive
        _text, stats, _ = finish(smollm2, "survivor")
        assert stats.stop_reason in ("length", "stop") and stats.generated_tokens > 0
        assert smollm2.alive
    finally:
        victim.close()


# --- files only llama.cpp can judge ---------------------------------------------------


def test_truncated_model_fails_to_load_with_the_log_quoted(
    smollm2_path: Path, tmp_path: Path
) -> None:
    cut = tmp_path / "SmolLM2-cut.gguf"
    with smollm2_path.open("rb") as source:
        cut.write_bytes(source.read(smollm2_path.stat().st_size // 2))
    started = time.perf_counter()
    handle, outcome = load(cut)
    try:
        assert isinstance(outcome, LoadFailed), outcome
        assert "SmolLM2-cut.gguf" in outcome.reason and "\n" not in outcome.reason
        assert "data is not within the file bounds" in outcome.reason  # llama.cpp's own words
        assert "failed to load model" in outcome.detail  # from the worker's log
        assert time.perf_counter() - started < 60
    finally:
        handle.close()


def test_unknown_architecture_fails_to_load_and_never_hangs(tmp_path: Path) -> None:
    path = tmp_path / "strange.gguf"
    writer = gguf.GGUFWriter(path, "nonexistentarch")
    writer.add_block_count(1)
    writer.add_context_length(128)
    writer.add_tensor("token_embd.weight", np.ones((16, 8), dtype=np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    handle, outcome = load(path)
    try:
        assert isinstance(outcome, LoadFailed), outcome
        assert "strange.gguf" in outcome.reason
        assert outcome.reason == "strange.gguf: unknown model architecture: 'nonexistentarch'"
        assert "unknown model architecture" in outcome.detail
    finally:
        handle.close()


def test_files_the_parent_refuses_never_start_a_worker(tmp_path: Path) -> None:
    text = tmp_path / "readme.gguf"
    text.write_text("not a model")
    safetensors = tmp_path / "model.safetensors"
    header = b'{"w":{"dtype":"F16","shape":[1],"data_offsets":[0,2]}}'
    safetensors.write_bytes(len(header).to_bytes(8, "little") + header + b"\0\0")
    empty = tmp_path / "empty.gguf"
    empty.touch()
    for path in (tmp_path / "missing.gguf", tmp_path, empty, text, safetensors):
        handle, outcome = load(path)
        assert isinstance(outcome, LoadFailed) and path.name in outcome.reason, outcome
        assert handle.pid is None


def test_the_decode_overhead_benchmark_runs_and_ends_with_its_headline() -> None:
    script = Path(__file__).parents[2] / "benchmarks" / "decode_overhead.py"
    result = subprocess.run(
        [sys.executable, str(script), "--tokens", "8", "--models", "smollm2-135m"],
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert all(": " in line for line in lines)
    names = {line.split(": ")[0] for line in lines}
    for figure in (
        "decode speed tok/s",
        "engine decode speed tok/s",
        "overhead ratio",
        "delivery lag p95 ms",
        "peak RSS MiB",
    ):
        assert f"smollm2-135m {figure}" in names
    assert re.fullmatch(r"overhead ratio \(min over models\): \d+\.\d\d", lines[-1])
