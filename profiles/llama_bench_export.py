"""Results as llama-bench JSON: the records llama.cpp's own tools read.

llama.cpp's `llama-bench -o json` writes a JSON array of test records, and its
`scripts/compare-llama-bench.py` (and the dashboards built on it) read them back. One
llmbench pane becomes two such tests, as llama-bench names them:

- `pp` (prompt processing): `n_prompt` = prompt tokens evaluated (cached ones excluded),
  `n_gen` = 0, `n_depth` = the cached prompt tokens it started from; speed = prompt speed.
- `tg` (text generation): `n_prompt` = 0, `n_gen` = generated tokens, `n_depth` = the
  prompt tokens already in the context; speed = llmbench's delivered decode speed
  (docs/metrics.md), the speed a user sees, not llama.cpp's eval counter.

The repetitions of one pane (`llmbench run --repeat N`) with the same token counts are
one test with N samples, as
llama-bench's `-r N` makes: `samples_ns` / `samples_ts`, their means and sample standard
deviations. A test with no measurable sample (an error, one token) is left out.

`build_commit` / `build_number` are llama.cpp's build that produced the results: for local
panes the one inside llama-cpp-python (ggml's commit; llama.cpp's own "unknown" build
number 0, since the binding does not carry it), for llama-server panes its `b1234-abcdef0`
build info.
"""

from __future__ import annotations

import json
import re
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from profiles.export_fields import model_type
from profiles.results import RunResult


@dataclass(frozen=True)
class LlamaBuild:
    """llama.cpp's build: llama-bench's `build_commit` and `build_number`."""

    commit: str = "unknown"
    number: int = 0


_BUILD_INFO = re.compile(r"^b(?P<number>\d+)-(?P<commit>[0-9a-fA-F]{6,40})")


def build_from_version(text: str) -> LlamaBuild | None:
    """The build in a llama-server `build_info` ("b6123-0c1e570"); None when not that shape."""
    match = _BUILD_INFO.match(text.strip())
    if match is None:
        return None
    return LlamaBuild(commit=match["commit"], number=int(match["number"]))


def _iso_utc(created_at: str) -> str:
    """llama-bench's `test_time` shape (UTC, seconds, "Z")."""
    from datetime import UTC, datetime

    try:
        when = datetime.fromisoformat(created_at)
    except ValueError:
        return created_at
    if when.tzinfo is not None:
        when = when.astimezone(UTC)
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def _mean_and_sd(values: Sequence[float]) -> tuple[float, float]:
    mean = statistics.fmean(values)
    return mean, (statistics.stdev(values) if len(values) > 1 else 0.0)


def _common_fields(result: RunResult, build: LlamaBuild) -> dict[str, Any]:
    """The fields of a llama-bench record that describe the build, machine, model and load."""
    model = result.model
    n_batch = model.n_batch if model.n_batch is not None else 0
    return {
        "build_commit": build.commit,
        "build_number": build.number,
        "cpu_info": result.cpu_name,
        "gpu_info": ", ".join(result.gpu_names),
        "backends": model.backend or "",
        "model_filename": model.path or model.file_name,
        "model_type": model_type(result),
        "model_size": model.file_size or 0,
        "model_n_params": model.n_params or 0,
        "n_batch": n_batch,
        # The engine sets n_ubatch to n_batch (engines/local/engine.py).
        "n_ubatch": n_batch,
        "n_threads": model.n_threads or 0,
        "cpu_mask": "0x0",
        "cpu_strict": False,
        "poll": 50,
        "type_k": "f16",
        "type_v": "f16",
        "n_gpu_layers": model.n_gpu_layers_requested,
        "n_cpu_moe": 0,
        "split_mode": "layer",
        "main_gpu": 0,
        "no_kv_offload": False,
        "flash_attn": -1,
        "devices": "auto",
        "tensor_split": "0.00",
        "tensor_buft_overrides": "none",
        "load_mode": "auto",
        "embeddings": False,
        "no_op_offload": 0,
        "no_host": False,
        "fit_target": 0,
        "fit_min_ctx": 0,
    }


_Speed = Callable[[RunResult], float | None]
_Counts = Callable[[RunResult], tuple[int, int, int]]

_TESTS: tuple[tuple[str, _Speed, _Counts], ...] = (
    (
        "pp",
        lambda r: r.figures.prompt_tps,
        lambda r: (
            (r.figures.prompt_tokens or 0) - r.figures.cached_prompt_tokens,
            0,
            r.figures.cached_prompt_tokens,
        ),
    ),
    (
        "tg",
        lambda r: r.figures.decode_tps,
        lambda r: (0, r.figures.generated_tokens, r.figures.prompt_tokens or 0),
    ),
)
"""Each llama-bench test one pane makes: its name, speed (tok/s) and (n_prompt, n_gen, n_depth)."""


def _group(results: Sequence[RunResult]) -> list[list[RunResult]]:
    """Results grouped by pane (repetitions of one pane together), in first-seen order."""
    groups: dict[Any, list[RunResult]] = {}
    for result in results:
        key = (result.pane_index, result.pane_label, result.model_ref, result.sampling.temperature)
        groups.setdefault(key, []).append(result)
    return list(groups.values())


def llama_bench_records(
    results: Sequence[RunResult], local_build: LlamaBuild | None = None
) -> list[dict[str, Any]]:
    """The llama-bench records of `results` (see the module docstring).

    `local_build` is the build of the llama.cpp inside llama-cpp-python (default:
    `engines.local.backend.llama_cpp_build()`, read once when a local result needs it).
    """
    records: list[dict[str, Any]] = []
    for group in _group(results):
        first = group[0]
        build = build_from_version(first.model.llama_cpp_version)
        if build is None:
            if local_build is None:
                from engines.local.backend import llama_cpp_build

                local_build = LlamaBuild(*llama_cpp_build())
            build = local_build
        for _name, speed_of, counts_of in _TESTS:
            by_counts: dict[tuple[int, int, int], list[float]] = {}
            for result in group:
                speed = speed_of(result)
                if speed is not None and speed > 0:
                    by_counts.setdefault(counts_of(result), []).append(speed)
            for counts, samples_ts in by_counts.items():
                records.append(_record(first, build, counts, samples_ts))
    return records


def _record(
    first: RunResult, build: LlamaBuild, counts: tuple[int, int, int], samples_ts: list[float]
) -> dict[str, Any]:
    n_prompt, n_gen, n_depth = counts
    samples_ns = [round((n_prompt + n_gen) / speed * 1e9) for speed in samples_ts]
    avg_ns, stddev_ns = _mean_and_sd(samples_ns)
    avg_ts, stddev_ts = _mean_and_sd(samples_ts)
    return {
        **_common_fields(first, build),
        "n_prompt": n_prompt,
        "n_gen": n_gen,
        "n_depth": n_depth,
        "test_time": _iso_utc(first.created_at),
        "avg_ns": round(avg_ns),
        "stddev_ns": round(stddev_ns),
        "avg_ts": avg_ts,
        "stddev_ts": stddev_ts,
        "samples_ns": samples_ns,
        "samples_ts": samples_ts,
    }


def to_llama_bench_json(results: Sequence[RunResult], local_build: LlamaBuild | None = None) -> str:
    """`llama_bench_records` as llama-bench's JSON array text."""
    return json.dumps(llama_bench_records(results, local_build), indent=2) + "\n"
