"""engines.machine.resources: the resource sampler, with real psutil on this machine and a stand-in NVML."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
from fake_nvml import MIB, FakeGpu, FakeNvmlModule

from engines.machine.nvml import Nvml
from engines.machine.resources import SELF_LABEL, CpuPercentMeter, ResourceSample, ResourceSampler

ALLOCATING_CHILD = textwrap.dedent(
    """
    import sys
    held = []
    for line in sys.stdin:
        if line.strip() == "alloc":
            held.append(bytearray(b"\\x01") * (160 * 1024 * 1024))  # written, so resident
        print("ok", flush=True)
    """
)


def no_gpu_sampler(**kwargs: object) -> ResourceSampler:
    return ResourceSampler(nvml=Nvml(module=FakeNvmlModule(init_error=12)), **kwargs)  # type: ignore[arg-type]


@pytest.fixture
def spinning_child() -> Iterator[subprocess.Popen[bytes]]:
    child = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    yield child
    child.kill()
    child.wait()


def wait_until(condition, timeout: float = 5.0) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return False


def test_one_sample_describes_the_machine_and_llmbench_itself() -> None:
    sampler = no_gpu_sampler()

    sample = sampler.sample_now()

    assert len(sample.cpu_percent_per_core) == psutil.cpu_count(logical=True)
    assert 0.0 <= sample.cpu_percent <= 100.0
    assert sample.ram_total_bytes == psutil.virtual_memory().total
    assert 0 < sample.ram_available_bytes <= sample.ram_total_bytes
    assert sample.ram_used_bytes == sample.ram_total_bytes - sample.ram_available_bytes
    assert sample.swap_total_bytes >= sample.swap_used_bytes >= 0
    me = sample.processes[os.getpid()]
    assert me.label == SELF_LABEL
    assert me.rss_bytes == pytest.approx(psutil.Process().memory_info().rss, rel=0.2)
    assert me.num_threads >= 1
    assert me.gpu_mem_mib is None
    assert sample.gpus == ()
    assert sampler.latest() is sample


def test_a_busy_child_shows_its_cpu_use(spinning_child: subprocess.Popen[bytes]) -> None:
    sampler = no_gpu_sampler(include_self=False)
    assert sampler.watch(spinning_child.pid, "spinner")
    meter = CpuPercentMeter()

    time.sleep(0.6)
    sample = sampler.sample_now()
    machine = meter.read()

    spinner = sample.processes[spinning_child.pid]
    assert spinner.label == "spinner"
    assert spinner.cpu_percent > 20.0  # one busy core is 100; the machine is shared, so allow less
    assert max(machine) > 20.0
    assert list(sample.processes) == [spinning_child.pid]


def test_a_child_rss_grows_when_it_allocates() -> None:
    child = subprocess.Popen(
        [sys.executable, "-c", ALLOCATING_CHILD],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        sampler = no_gpu_sampler(include_self=False)
        sampler.watch(child.pid, "allocator")
        child.stdin.write("nothing\n")  # type: ignore[union-attr]
        child.stdin.flush()  # type: ignore[union-attr]
        child.stdout.readline()  # type: ignore[union-attr]
        before = sampler.sample_now().processes[child.pid].rss_bytes
        child.stdin.write("alloc\n")  # type: ignore[union-attr]
        child.stdin.flush()  # type: ignore[union-attr]
        child.stdout.readline()  # type: ignore[union-attr]
        after = sampler.sample_now().processes[child.pid].rss_bytes
    finally:
        child.kill()
        child.wait()

    assert after - before > 150 * MIB


def test_a_process_that_exits_is_dropped_quietly(caplog: pytest.LogCaptureFixture) -> None:
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    sampler = no_gpu_sampler()
    sampler.watch(child.pid, "short-lived")
    assert child.pid in sampler.sample_now().processes

    child.kill()
    child.wait()
    with caplog.at_level(logging.DEBUG):
        sample = sampler.sample_now()

    assert child.pid not in sample.processes
    assert os.getpid() in sample.processes
    assert child.pid not in sampler.watched
    assert not [record for record in caplog.records if record.name.startswith("llmbench")]


def test_watching_a_missing_process_is_refused_quietly() -> None:
    sampler = no_gpu_sampler()
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    assert sampler.watch(child.pid, "gone") is False
    assert sampler.watched == {os.getpid(): SELF_LABEL}
    sampler.unwatch(child.pid)  # no error


def test_history_is_a_ring_buffer_of_history_s() -> None:
    sampler = no_gpu_sampler(interval_s=0.5, history_s=2.0)

    samples = [sampler.sample_now() for _ in range(7)]

    assert sampler.history() == samples[-4:]
    times = [sample.time for sample in sampler.history()]
    assert times == sorted(times)


def test_peak_rss_since_a_time() -> None:
    sampler = no_gpu_sampler()
    first = sampler.sample_now()
    second = sampler.sample_now()
    pid = os.getpid()
    assert sampler.peak_rss_bytes(pid, since=first.time) == max(
        first.processes[pid].rss_bytes, second.processes[pid].rss_bytes
    )
    assert sampler.peak_rss_bytes(pid, since=second.time + 1) is None
    assert sampler.peak_rss_bytes(1, since=0) is None


def test_the_thread_samples_at_its_interval_and_calls_the_listener() -> None:
    received: list[ResourceSample] = []
    sampler = no_gpu_sampler(interval_s=0.05, listener=received.append)

    started = time.monotonic()
    with sampler:
        assert sampler.running
        assert wait_until(lambda: len(received) >= 5)
    wall = time.monotonic() - started
    count = len(received)
    time.sleep(0.15)

    assert not sampler.running
    assert len(received) == count  # stopped means stopped
    assert received == sampler.history()[-count:]
    assert count <= wall / 0.05 + 2  # paced by its interval, never spinning
    assert sampler.own_cpu_seconds > 0
    sampler.stop()  # twice is fine


def test_a_failing_listener_neither_stops_the_sampler_nor_floods_the_log(
    caplog: pytest.LogCaptureFixture,
) -> None:
    def broken(sample: ResourceSample) -> None:
        raise ValueError("listener bug")

    sampler = no_gpu_sampler(interval_s=0.02, listener=broken)
    with caplog.at_level(logging.ERROR, logger="llmbench.resources"):
        sampler.start()
        assert wait_until(lambda: len(sampler.history()) >= 5)
        sampler.stop()

    assert len(caplog.records) == 1


def test_gpus_and_each_process_gpu_memory_come_from_nvml() -> None:
    me = os.getpid()
    fake = FakeNvmlModule(
        [
            FakeGpu(name="NVIDIA A100", compute_processes={me: 2048 * MIB, 99999: 100 * MIB}),
            FakeGpu(name="NVIDIA A10", power_mw=60_000),
        ]
    )
    sample = ResourceSampler(nvml=Nvml(module=fake)).sample_now()

    assert sample.processes[me].gpu_mem_mib == pytest.approx(2048.0)
    assert 99999 not in sample.processes  # only watched processes are reported
    assert [gpu.name for gpu in sample.gpus] == ["NVIDIA A100", "NVIDIA A10"]
    assert sample.gpus[1].power_w == pytest.approx(60.0)


def test_no_driver_is_logged_once_not_per_sample(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG, logger="llmbench"):
        sampler = ResourceSampler(nvml=Nvml(module=FakeNvmlModule(init_error=12)))
        samples = [sampler.sample_now() for _ in range(5)]

    assert all(sample.gpus == () for sample in samples)
    assert len(caplog.records) == 1
    assert "no NVIDIA driver found" in caplog.records[0].getMessage()


def test_bad_interval_is_refused() -> None:
    with pytest.raises(ValueError, match="interval_s must be positive"):
        ResourceSampler(interval_s=0)


MODEL_CHILD = textwrap.dedent(
    """
    import sys, time
    import llama_cpp
    print("imported", flush=True)
    sys.stdin.readline()
    llm = llama_cpp.Llama(model_path=sys.argv[1], n_ctx=512, n_threads=1, verbose=False)
    print("loaded", flush=True)
    sys.stdin.readline()
    deadline = time.monotonic() + 1.5
    while time.monotonic() < deadline:
        llm.create_completion("Once upon a time", max_tokens=48, temperature=0.0)
    print("generated", flush=True)
    sys.stdin.readline()
    """
)


@pytest.mark.real_model
def test_a_model_worker_rss_grows_on_load_and_its_cpu_shows_while_it_generates(
    smollm2_path: Path,
) -> None:
    child = subprocess.Popen(
        [sys.executable, "-c", MODEL_CHILD, str(smollm2_path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdin is not None and child.stdout is not None

    def step() -> str:
        child.stdin.write("go\n")  # type: ignore[union-attr]
        child.stdin.flush()  # type: ignore[union-attr]
        return child.stdout.readline().strip()  # type: ignore[union-attr]

    try:
        assert child.stdout.readline().strip() == "imported"
        sampler = no_gpu_sampler(interval_s=0.25, include_self=False)
        sampler.watch(child.pid, "smollm2")
        idle = sampler.sample_now().processes[child.pid]
        assert step() == "loaded"
        loaded = sampler.sample_now().processes[child.pid]
        with sampler:
            assert step() == "generated"
        generating = [
            s.processes[child.pid] for s in sampler.history()[2:] if child.pid in s.processes
        ]
    finally:
        child.kill()
        child.wait()

    model_size = smollm2_path.stat().st_size
    assert loaded.rss_bytes - idle.rss_bytes > 0.5 * model_size
    assert len(generating) >= 3
    assert max(sample.cpu_percent for sample in generating) > 30.0
    assert idle.cpu_percent < 30.0  # waiting on stdin


def test_a_reading_right_after_watch_is_not_a_clock_tick_over_microseconds() -> None:
    """psutil's own cpu_percent divides a 10 ms tick by the few microseconds since priming."""
    sampler = no_gpu_sampler(interval_s=1.0, include_self=False)
    busy = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        time.sleep(0.3)
        readings = []
        for _ in range(300):
            sampler.watch(busy.pid, "busy")
            readings.append(sampler.sample_now().processes[busy.pid].cpu_percent)
            sampler.unwatch(busy.pid)
    finally:
        busy.kill()
        busy.wait()
    assert max(readings) <= 100.0 * psutil.cpu_count()
