"""The resource sampler's own CPU cost while two real model workers generate.

Starts two demo-model workers (`engines.local.handle.WorkerModelHandle`: smollm2-135m
and gemma3-270m, one CPU thread each), keeps both generating, and runs the
ResourceSampler at 2 Hz watching them for about 10 s. The sampler thread's own CPU time
(time.thread_time() inside it) over the wall time is its cost in % of one core; the
target is under 1 %. The machine is shared, so worker speeds are noisy; the sampler's
CPU time is its own and is not inflated by other load (only by cache effects).

    .venv/bin/python benchmarks/sampler_cost.py [--seconds 10] [--hz 2]
"""

from __future__ import annotations

import argparse
import statistics
import threading
import time

from engines.local.handle import WorkerModelHandle
from engines.machine.nvml import default_nvml
from engines.machine.resources import ResourceSampler
from engines.models.demo import demo_model_path
from engines.protocol import GenerationFinished, LoadFailed, ModelLoaded, WorkerCrashed
from engines.types import GenerationRequest, ModelSettings, SamplingParams

DEMO_MODELS = ("smollm2-135m", "gemma3-270m")
MAX_TOKENS = 48


def load(name: str) -> WorkerModelHandle:
    handle = WorkerModelHandle()
    handle.load(ModelSettings(path=str(demo_model_path(name)), n_ctx=512, n_threads=1, label=name))
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        for event in handle.next_events(timeout=1.0):
            if isinstance(event, ModelLoaded):
                return handle
            if isinstance(event, LoadFailed | WorkerCrashed):
                raise SystemExit(f"{name}: could not load: {event.reason}")
    raise SystemExit(f"{name}: did not load within 120 s")


def keep_generating(
    handle: WorkerModelHandle, stop: threading.Event, counts: dict[str, int], name: str
) -> None:
    """Run generation after generation on one worker until `stop` is set."""
    sampling = SamplingParams(temperature=0.7, max_tokens=MAX_TOKENS, seed=1)
    handle.generate(
        GenerationRequest(prompt="Tell me a story about a lighthouse.", sampling=sampling)
    )
    while True:
        for event in handle.next_events(timeout=0.5):
            if isinstance(event, GenerationFinished):
                counts[name] = counts.get(name, 0) + event.stats.generated_tokens
                if stop.is_set():
                    return
                sampling = sampling.with_changes(seed=sampling.seed + 1)
                handle.generate(
                    GenerationRequest(
                        prompt="Tell me a story about a lighthouse.", sampling=sampling
                    )
                )
            elif isinstance(event, WorkerCrashed):
                raise SystemExit(f"{name}: worker crashed: {event.reason}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--hz", type=float, default=2.0)
    args = parser.parse_args()

    handles = {name: load(name) for name in DEMO_MODELS}
    pids = {name: handle.pid for name, handle in handles.items()}
    stop = threading.Event()
    tokens: dict[str, int] = {}
    threads = [
        threading.Thread(target=keep_generating, args=(handle, stop, tokens, name), daemon=True)
        for name, handle in handles.items()
    ]
    try:
        for thread in threads:
            thread.start()
        time.sleep(1.0)  # both workers are generating before measuring
        nvml_start = time.thread_time()
        gpus_found = default_nvml().available  # NVML starts once per process: counted apart
        nvml_start_ms = (time.thread_time() - nvml_start) * 1000
        sampler = ResourceSampler(interval_s=1.0 / args.hz)
        for name, pid in pids.items():
            if pid is None or not sampler.watch(pid, name):
                raise SystemExit(f"{name}: the worker process is not running")
        wall_start = time.perf_counter()
        with sampler:
            time.sleep(args.seconds)
        wall = time.perf_counter() - wall_start
        stop.set()
        for thread in threads:
            thread.join(30)
    finally:
        for handle in handles.values():
            handle.close()

    samples = sampler.history()
    cpu_seconds = sampler.own_cpu_seconds
    print("backend of workers: WorkerModelHandle (engines.local.handle)")
    print(f"sampler hz: {args.hz:g}")
    print(f"measured wall s: {wall:.2f}")
    print(f"samples taken: {len(samples)}")
    print(
        f"nvml start cpu ms (once per process): {nvml_start_ms:.1f} ({'GPUs found' if gpus_found else default_nvml().reason})"
    )
    for name, pid in pids.items():
        worker = [s.processes[pid] for s in samples[1:] if pid in s.processes]
        if worker:
            print(
                f"{name} worker cpu % (mean): {statistics.mean(p.cpu_percent for p in worker):.1f}"
            )
            print(f"{name} worker rss MiB (max): {max(p.rss_bytes for p in worker) / 2**20:.1f}")
        print(f"{name} tokens generated: {tokens.get(name, 0)}")
    print(f"machine cpu % (mean): {statistics.mean(s.cpu_percent for s in samples[1:]):.1f}")
    print(f"sampler cpu ms per sample: {cpu_seconds / max(1, len(samples)) * 1000:.3f}")
    print(f"sampler cpu % of one core: {cpu_seconds / wall * 100:.2f}")


if __name__ == "__main__":
    main()
