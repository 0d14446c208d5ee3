"""Is the first answer after a load as quick to start as the next one?

llama.cpp's first evaluation after a load pays one-time costs (weights paged in, compute
threads and buffers set up). `LlamaEngine` pays them at load with a throwaway warm-up
evaluation, as llama.cpp's own tools do. For each demo model, loaded in this process
without and then with the warm-up, this prints as `name: value` lines:

- load time (s);
- the first and the second run's time to first token (generate called → first text
  emitted; the second run with the prompt cache emptied, so it computes the same prompt
  again) and llama.cpp's own prompt speed for each;
- their ratio, first / second TTFT (1.0: the first answer starts as fast as the next).

With `--cold`, the model file is dropped from the page cache before each load
(`posix_fadvise(DONTNEED)`, this file only), as after a reboot or a fresh download: that
is when the first evaluation costs most, since it reads the weights from disk.

Last line: `first / second TTFT with warm-up (max over models): X.XX`.
Run: `.venv/bin/python benchmarks/first_run.py [--models a,b] [--cold]`.
"""

from __future__ import annotations

import argparse
import os
import time

from engines.local.engine import LlamaEngine
from engines.models.demo import DEMO_MODELS, demo_model_path
from engines.protocol import Event, TokensGenerated
from engines.types import GenerationRequest, GenerationStats, ModelSettings, SamplingParams

PROMPT = "The three most important things to know about black holes are"
SAMPLING = SamplingParams(temperature=0.0, max_tokens=8, seed=1)
N_CTX = 512


def timed_run(engine: LlamaEngine) -> tuple[float, GenerationStats]:
    """(seconds from generate to the first emitted text, stats) of one run."""
    started = time.perf_counter()
    first: list[float] = []

    def emit(event: Event) -> None:
        if isinstance(event, TokensGenerated) and not first:
            first.append(time.perf_counter())

    stats = engine.generate(GenerationRequest(PROMPT, SAMPLING, request_id="r"), emit)
    return (first[0] if first else time.perf_counter()) - started, stats


def drop_from_page_cache(path: str) -> None:
    """Ask the kernel to forget the file's cached pages (those no process has mapped)."""
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.posix_fadvise(descriptor, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(descriptor)


def measure(name: str, warm_up: bool, cold: bool) -> float:
    """Print one model's figures; returns first / second TTFT."""
    settings = ModelSettings(path=str(demo_model_path(name)), n_ctx=N_CTX, label=name)
    engine = LlamaEngine(settings, warm_up=warm_up)
    if cold:
        drop_from_page_cache(settings.path)
    started = time.perf_counter()
    engine.load()
    load_s = time.perf_counter() - started
    first_ttft, first = timed_run(engine)
    engine.context.cached_tokens = []  # the second run computes the whole prompt again
    second_ttft, second = timed_run(engine)
    engine.close()
    ratio = first_ttft / second_ttft
    tag = f"{name} ({'with' if warm_up else 'without'} warm-up)"
    print(f"{tag} load s: {load_s:.3f}")
    print(f"{tag} first TTFT s: {first_ttft:.3f}")
    print(f"{tag} second TTFT s: {second_ttft:.3f}")
    print(f"{tag} first prompt tok/s: {first.prompt_tps or 0:.1f}")
    print(f"{tag} second prompt tok/s: {second.prompt_tps or 0:.1f}")
    print(f"{tag} first / second TTFT: {ratio:.2f}")
    return ratio


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default=",".join(DEMO_MODELS), help="demo model names")
    parser.add_argument("--cold", action="store_true", help="drop each file from the page cache")
    arguments = parser.parse_args()
    import llama_cpp  # noqa: F401 - imported before timing, so no load pays for it

    warmed = []
    for name in arguments.models.split(","):
        measure(name, warm_up=False, cold=arguments.cold)
        warmed.append(measure(name, warm_up=True, cold=arguments.cold))
    print(f"first / second TTFT with warm-up (max over models): {max(warmed):.2f}")


if __name__ == "__main__":
    main()
