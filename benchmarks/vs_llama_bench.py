"""llmbench's decode speed against llama.cpp's own llama-bench, on the same model, same threads.

For each demo model (default: SmolLM2): llama-bench `tg128` (`-p 0 -n 128`, `-r N`,
`-t THREADS`), then llmbench through the path of `llmbench run` (a worker process, the
real sampler chain, the pipe) generating 128 tokens with the same thread count, one
warm-up and N measured runs, side by side in one run so the machine's load is shared.
Printed as `name: value` lines, per model:

- llama-bench tg128 (tok/s, mean ± sd over its repetitions);
- llmbench engine decode: llama.cpp's own eval counter in the worker (what llama-bench
  also times: evaluation only);
- llmbench decode: the delivered decode speed (docs/metrics.md), which also pays for
  sampling (llama-bench samples nothing), text pieces and batching;
- the ratios engine / llama-bench and delivered / llama-bench, and where the gap goes in
  µs per token (evaluation vs. everything else).

The last line is `llmbench decode / llama-bench tg: X.XX` (the lowest over the models).

    .venv/bin/python benchmarks/vs_llama_bench.py --llama-bench .llama-tools/bin/llama-bench \
        [--models smollm2-135m,gemma3-270m] [--threads N] [--repeat 5]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

PROMPT = (
    "Write a long story about a dragon who learns to bake bread. Describe every step in detail."
)
N_GEN = 128
N_CTX = 512


def llama_bench_tg(binary: str, model: Path, threads: int, repeat: int) -> tuple[float, float]:
    """llama-bench tg128: (mean, sd) tokens/s."""
    command = [
        binary, "-m", str(model), "-p", "0", "-n", str(N_GEN), "-t", str(threads),
        "-r", str(repeat), "-o", "json",
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        raise SystemExit(f"llama-bench failed: {done.stderr.strip().splitlines()[-1:]}")
    record = json.loads(done.stdout)[0]
    return float(record["avg_ts"]), float(record["stddev_ts"])


def llmbench_decode(model_ref: str, threads: int, repeat: int):
    """llmbench's results for `repeat` measured runs of 128 tokens (after one warm-up)."""
    from profiles.plan import build_plan
    from profiles.run_driver import DriverOptions
    from profiles.runner import run_comparison
    from profiles.schema import ModelSettingsSpec, PaneSpec, Profile, SamplingValues

    pane = PaneSpec(model=model_ref, settings=ModelSettingsSpec(n_threads=threads, n_ctx=N_CTX))
    sampling = SamplingValues(max_tokens=N_GEN, temperature=0.7, seed=1)
    plans = build_plan(Profile(name="vs-llama-bench", panes=[pane], sampling=sampling))
    # The workbench lowers its workers' priority; llama-bench runs at the normal one, so the
    # worker does too here (on a busy machine niceness alone would decide the ratio).
    outcome = run_comparison(
        plans,
        PROMPT,
        repeat=repeat,
        warmup=1,
        history=False,
        driver_options=DriverOptions(niceness=0),
    )
    if outcome.failures:
        raise SystemExit(f"llmbench failed: {outcome.failures[0]}")
    return outcome.results


def _mean_sd(values: list[float]) -> tuple[float, float]:
    return statistics.fmean(values), statistics.stdev(values) if len(values) > 1 else 0.0


def main() -> int:
    from engines.machine.threads import default_threads
    from engines.models.demo import demo_model_path

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--llama-bench", required=True, metavar="PATH", help="llama-bench binary")
    parser.add_argument("--models", default="smollm2-135m", help="demo models, comma-separated")
    parser.add_argument("--threads", type=int, default=None, help="threads (default: llmbench's)")
    parser.add_argument("--repeat", type=int, default=5, help="measured runs of each side")
    args = parser.parse_args()
    if not Path(args.llama_bench).is_file():
        print(f"vs_llama_bench: no llama-bench at {args.llama_bench} (make llama-tools)")
        return 2
    threads = args.threads or default_threads(1)
    print(f"threads: {threads}")
    ratios = []
    for name in args.models.split(","):
        path = demo_model_path(name)
        tg, tg_sd = llama_bench_tg(args.llama_bench, path, threads, args.repeat)
        results = llmbench_decode(f"demo:{name}", threads, args.repeat)
        tg_after, tg_after_sd = llama_bench_tg(args.llama_bench, path, threads, args.repeat)
        tokens = [r.figures.generated_tokens for r in results]
        engine, engine_sd = _mean_sd([r.figures.engine_decode_tps or 0.0 for r in results])
        delivered, delivered_sd = _mean_sd([r.figures.decode_tps or 0.0 for r in results])
        sampling = statistics.fmean([r.figures.sampling_ms_per_token or 0.0 for r in results])
        bench = (tg + tg_after) / 2
        print(f"{name} llama-bench tg{N_GEN} tok/s (before, after): {tg:.1f} ± {tg_sd:.1f}, "
              f"{tg_after:.1f} ± {tg_after_sd:.1f}")  # fmt: skip
        print(f"{name} llmbench generated tokens: {min(tokens)}..{max(tokens)}")
        print(f"{name} llmbench engine decode tok/s: {engine:.1f} ± {engine_sd:.1f}")
        print(f"{name} llmbench decode tok/s: {delivered:.1f} ± {delivered_sd:.1f}")
        print(f"{name} llmbench sampling ms/token: {sampling:.3f}")
        print(f"{name} engine / llama-bench: {engine / bench:.2f}")
        print(f"{name} decode / engine: {delivered / engine:.2f}")
        print(f"{name} gap µs/token, evaluation: {1e6 / engine - 1e6 / bench:.0f}")
        print(f"{name} gap µs/token, around evaluation: {1e6 / delivered - 1e6 / engine:.0f}")
        ratio = delivered / bench
        print(f"{name} llmbench decode / llama-bench tg: {ratio:.2f}")
        ratios.append(ratio)
    print(f"llmbench decode / llama-bench tg: {min(ratios):.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
