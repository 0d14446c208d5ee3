"""Does the fidelity pass run at llama.cpp's own prompt-processing speed?

For one demo model (SmolLM2 by default) and the bundled text, in windows of n_ctx with
batches of n_ctx (llama-perplexity's -c and -b), this measures side by side, alternating
`--rounds` times (the machine is shared; the best of each side is kept):

- llmbench's fidelity pass (a comparison pass: KLD against the model's own cached
  candidates, the more expensive kind) in a model worker: tokens / pass wall time,
  logits work included, and llama.cpp's own eval counters in that same pass;
- llama-perplexity on the same file, text, context, batch and threads: its reported
  speed (n_ctx / its seconds per pass), when it is built (`make llama-tools`);
- llama-bench's pp of n_ctx tokens, when it is built.

Prints `name: value` lines; the last is the headline: llmbench pass tokens/s divided by
llama-perplexity's reported speed (or, without llama-perplexity, by llama.cpp's own
eval counters in the same pass). The target is at least 0.9.
Run: `.venv/bin/python benchmarks/fidelity_speed.py [--model demo:smollm2-135m] [--n-ctx 512]`.
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import re
import subprocess
import tempfile
from pathlib import Path

from engines.fidelity.reference_text import bundled_text
from engines.machine.threads import default_threads
from engines.models.resolve import resolve_model_ref
from engines.types import ModelSettings, SamplingParams
from profiles.fidelity_run import run_fidelity
from profiles.plan import PanePlan

REPO = Path(__file__).resolve().parents[1]


def llama_tool(name: str) -> Path | None:
    """A llama.cpp tool from LLMBENCH_LLAMA_TOOLS (a bin folder) or <repo>/.llama-tools/bin."""
    for folder in filter(
        None, [os.environ.get("LLMBENCH_LLAMA_TOOLS"), str(REPO / ".llama-tools" / "bin")]
    ):
        path = Path(folder) / name
        if path.is_file() and os.access(path, os.X_OK):
            return path
    return None


def ours(path: Path, text: str, n_ctx: int, threads: int) -> tuple[float, float]:
    """(pass tokens/s, llama.cpp eval tokens/s in that pass) of a comparison pass."""
    settings = ModelSettings(path=str(path), n_ctx=n_ctx, n_threads=threads, label="model")
    plans = [
        PanePlan(i, f"pane{i}", str(path), "local", settings, SamplingParams()) for i in (0, 1)
    ]
    outcome = run_fidelity(plans, text, n_ctx)  # the reference comes from the cache after round 1
    figures = outcome.figures[1]
    if figures.error:
        raise SystemExit(f"fidelity pass failed: {figures.error}")
    return figures.tokens_per_s or 0.0, figures.engine_tokens_per_s or 0.0


def llama_perplexity(tool: Path, path: Path, text_file: Path, n_ctx: int, threads: int) -> float:
    """llama-perplexity's reported speed: n_ctx / its "seconds per pass" (one window; this
    llama.cpp prints no perf counters for perplexity)."""
    result = subprocess.run(
        [str(tool), "-m", str(path), "-f", str(text_file), "-c", str(n_ctx), "-b", str(n_ctx),
         "-t", str(threads)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    match = re.search(r"([0-9.]+) seconds per pass", result.stdout + result.stderr)
    if not match:
        raise SystemExit("llama-perplexity printed no 'seconds per pass'")
    return n_ctx / float(match.group(1))


def llama_bench(tool: Path, path: Path, n_ctx: int, threads: int) -> float:
    result = subprocess.run(
        [str(tool), "-m", str(path), "-p", str(n_ctx), "-n", "0", "-b", str(n_ctx),
         "-t", str(threads), "-r", "2", "-o", "csv"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    return float(rows[-1]["avg_ts"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="demo:smollm2-135m")
    parser.add_argument("--n-ctx", type=int, default=512)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    path = resolve_model_ref(args.model)
    threads = default_threads(1)
    text = bundled_text()
    perplexity_tool, bench_tool = llama_tool("llama-perplexity"), llama_tool("llama-bench")
    best = {"ours": 0.0, "ours_engine": 0.0, "perplexity": 0.0}
    with tempfile.TemporaryDirectory() as folder:
        text_file = Path(folder) / "text.txt"
        text_file.write_text(text, encoding="utf-8")
        for _ in range(args.rounds):
            pass_tps, engine_tps = ours(path, text, args.n_ctx, threads)
            best["ours"] = max(best["ours"], pass_tps)
            best["ours_engine"] = max(best["ours_engine"], engine_tps)
            if perplexity_tool:
                speed = llama_perplexity(perplexity_tool, path, text_file, args.n_ctx, threads)
                best["perplexity"] = max(best["perplexity"], speed)
    print(f"model: {path.name}")
    print(f"n_ctx (= batch): {args.n_ctx}")
    print(f"threads: {threads}")
    print(f"llmbench fidelity pass (tok/s): {best['ours']:.1f}")
    print(f"llama.cpp eval counters in that pass (tok/s): {best['ours_engine']:.1f}")
    print(f"pass / own eval counters: {best['ours'] / best['ours_engine']:.3f}")
    if bench_tool:
        print(
            f"llama-bench pp{args.n_ctx} (tok/s): {llama_bench(bench_tool, path, args.n_ctx, threads):.1f}"
        )
    if perplexity_tool:
        print(f"llama-perplexity (tok/s, n_ctx / seconds per pass): {best['perplexity']:.1f}")
        print(f"llmbench pass / llama-perplexity: {best['ours'] / best['perplexity']:.3f}")
    else:
        print("llama-perplexity: not built (make llama-tools); headline against own counters")
        print(f"llmbench pass / llama.cpp eval counters: {best['ours'] / best['ours_engine']:.3f}")


if __name__ == "__main__":
    main()
