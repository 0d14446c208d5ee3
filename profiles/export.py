"""Exports of a comparison's results: JSON, CSV and Markdown.

`result_to_record` flattens one `RunResult` into the fields JSON and CSV share, using
llama.cpp's llama-bench names where one exists (`model_filename`, `model_type`,
`model_size`, `model_n_params`, `n_threads`, `n_gpu_layers`, `n_batch`, `n_prompt`,
`n_gen`, `cpu_info`, `gpu_info`, `backends`, `test_time`) so results line up with the
rest of the ecosystem, and docs/metrics.md's names for everything else. Unknown figures are
null in JSON and empty in CSV, never 0.

Markdown shows the panes side by side in one table of figures (★ on the best values, ↺ on
figures of a prompt served from the cache, by `profiles.best`'s rule), then each answer.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
from collections.abc import Callable, Sequence
from typing import Any

from engines.messages import one_line
from engines.units import short_count
from profiles.atomic import atomic_write_text
from profiles.best import BEST_MARK, CACHED_MARK, Contender, Figure, is_cached, starred
from profiles.results import RunResult

EXPORT_VERSION = 1


def result_to_record(result: RunResult) -> dict[str, Any]:
    """One result as a flat record (JSON values; lists stay lists)."""
    figures, model, sampling = result.figures, result.model, result.sampling
    return {
        "id": result.id,
        "test_time": result.created_at,
        "profile": result.profile,
        "pane_label": result.pane_label,
        "pane_index": result.pane_index,
        "repetition": result.repetition,
        "mode": result.mode,
        "model_ref": result.model_ref,
        "model_filename": model.file_name,
        "model_type": model_type(result),
        "model_size": model.file_size,
        "model_n_params": model.n_params,
        "model_sha256": model.sha256,
        "model_name": model.name,
        "model_architecture": model.architecture,
        "model_quantization": model.quantization,
        "model_n_ctx_train": model.n_ctx_train,
        "model_path": model.path,
        "has_chat_template": model.has_chat_template,
        "n_ctx": model.n_ctx,
        "n_batch": model.n_batch,
        "n_threads": model.n_threads,
        "n_gpu_layers": model.n_gpu_layers_requested,
        "n_gpu_layers_offloaded": model.n_gpu_layers_offloaded,
        "prompt_mode": figures.prompt_mode,
        "n_prompt": figures.prompt_tokens,
        "n_prompt_cached": figures.cached_prompt_tokens,
        "n_gen": figures.generated_tokens,
        "load_s": figures.load_s,
        "ttft_s": figures.ttft_s,
        "prompt_tps": figures.prompt_tps,
        "decode_tps": figures.decode_tps,
        "engine_decode_tps": figures.engine_decode_tps,
        "overhead_ratio": figures.overhead_ratio,
        "sampling_ms_per_token": figures.sampling_ms_per_token,
        "delivery_lag_p95_ms": figures.delivery_lag_p95_ms,
        "elapsed_s": figures.elapsed_s,
        "peak_rss_mib": figures.peak_rss_mib,
        "gpu_mem_mib": figures.gpu_mem_mib,
        "energy_j": figures.energy_j,
        "energy_per_token_j": figures.energy_per_token_j,
        "cpu_energy_j": figures.cpu_energy_j,
        "mean_logprob": figures.mean_logprob,
        "perplexity": figures.perplexity,
        "mean_entropy": figures.mean_entropy,
        "stop_reason": figures.stop_reason,
        "error": figures.error,
        **server_fields(result),
        "temperature": sampling.temperature,
        "top_p": sampling.top_p,
        "top_k": sampling.top_k,
        "min_p": sampling.min_p,
        "repeat_penalty": sampling.repeat_penalty,
        "max_tokens": sampling.max_tokens,
        "stop": list(sampling.stop),
        "seed": sampling.seed,
        "sampling_changes": [change.model_dump() for change in result.sampling_changes],
        "backends": model.backend,
        "llama_cpp_python_version": model.llama_cpp_python_version,
        "llama_cpp_version": model.llama_cpp_version,
        "cpu_info": result.cpu_name,
        "gpu_info": ", ".join(result.gpu_names),
        "hostname": result.host.get("hostname"),
        **fidelity_fields(result),
        "prompt": result.prompt,
        "system_prompt": result.system_prompt,
        "text": result.text,
    }


SERVER_FIELDS = (
    "kv_cache_pct", "requests_running", "requests_waiting", "prompt_tps", "generation_tps",
    "slots_busy", "slots_total", "model_file", "n_ctx",
)  # fmt: skip
"""The figures an `openai:` pane's server publishes about itself (`server_` + name)."""


def server_fields(result: RunResult) -> dict[str, Any]:
    """`server_*` columns: None where the server did not say (or the pane is local)."""
    return {f"server_{name}": getattr(result.figures, f"server_{name}") for name in SERVER_FIELDS}


def fidelity_fields(result: RunResult) -> dict[str, Any]:
    """The fidelity columns (docs/metrics.md): None where the run did not measure them."""
    fidelity = result.fidelity
    return {
        "ppl": fidelity.ppl if fidelity else None,
        "ppl_err": fidelity.ppl_err if fidelity else None,
        "kld": fidelity.kld if fidelity else None,
        "kld_p99": fidelity.kld_p99 if fidelity else None,
        "top1_pct": fidelity.same_top_pct if fidelity else None,
        "dp_mean_pct": fidelity.dp_mean_pct if fidelity else None,
        "fidelity_n_ctx": fidelity.n_ctx if fidelity else None,
        "fidelity_reference": fidelity.reference if fidelity else None,
        "fidelity_note": (fidelity.error or fidelity.note) if fidelity else None,
    }


def model_type(result: RunResult) -> str:
    """llama-bench's model description: architecture, size, quantization (e.g. "llama 1.2B Q4_K_M")."""
    parts = [
        result.model.architecture,
        human_params(result.model.n_params),
        result.model.quantization,
    ]
    return " ".join(part for part in parts if part)


def human_params(n_params: int | None) -> str:
    """A parameter count as people write it (135M, 1.2B); "" when unknown."""
    return short_count(n_params, unknown="")


def _common_mode(results: Sequence[RunResult]) -> str | None:
    modes = {result.mode for result in results}
    return modes.pop() if len(modes) == 1 else ("mixed" if modes else None)


# --- JSON ------------------------------------------------------------------------------------


def to_json(
    results: Sequence[RunResult], mode: str | None = None, host: dict[str, Any] | None = None
) -> str:
    """`{"host": ..., "mode": ..., "results": [...]}` as indented JSON text."""
    document = {
        "llmbench_export_version": EXPORT_VERSION,
        "host": host if host is not None else (dict(results[0].host) if results else {}),
        "mode": mode or _common_mode(results),
        "results": [_json_record(result) for result in results],
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def _json_record(result: RunResult) -> dict[str, Any]:
    """`result_to_record`, plus the token probabilities (`logprobs`) when recorded."""
    record = result_to_record(result)
    if result.logprobs is not None:
        record["logprobs"] = result.logprobs
    return record


# --- CSV -------------------------------------------------------------------------------------


def to_csv(results: Sequence[RunResult]) -> str:
    """One row per result with the fields of `result_to_record` (lists as JSON, None empty).

    Text cells that start with `=`, `+`, `-`, `@` (or a tab or carriage return) get a leading
    `'`, so a spreadsheet shows a model's answer instead of running it as a formula;
    numbers stay numbers (a negative log-probability is not text). Lines end in CRLF (RFC
    4180), so a cell holding a lone carriage return is quoted too.
    """
    buffer = io.StringIO()
    records = [result_to_record(result) for result in results]
    columns = list(records[0]) if records else list(_empty_record_columns())
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\r\n")
    writer.writeheader()
    for record in records:
        writer.writerow({key: _csv_value(value) for key, value in record.items()})
    return buffer.getvalue()


def _empty_record_columns() -> list[str]:
    from profiles.results import Figures, ModelRecord, SamplingRecord

    sample = RunResult(
        id="",
        created_at="",
        pane_label="",
        mode="sequential",
        model_ref="",
        prompt="",
        text="",
        figures=Figures(
            stop_reason="stop", prompt_mode="chat", prompt_tokens=0, generated_tokens=0
        ),
        sampling=SamplingRecord(
            temperature=0, top_p=0, top_k=0, min_p=0, repeat_penalty=1, max_tokens=1, seed=0
        ),
        model=ModelRecord(
            path="", file_name="", n_ctx=0, n_gpu_layers_requested=0, n_gpu_layers_offloaded=0
        ),
    )
    return list(result_to_record(sample))


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""A cell starting with one of these is run as a formula by spreadsheets (OWASP's list)."""


def _csv_value(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, list | dict):
        value = json.dumps(value, ensure_ascii=False)
    if isinstance(value, str):
        return neutralise_formula(value)
    return value


def neutralise_formula(text: str) -> str:
    """Text a spreadsheet would run as a formula, made plain by a leading apostrophe."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


# --- Markdown --------------------------------------------------------------------------------

_TABLE_ROWS: list[tuple[str, Callable[[RunResult], str]]] = [
    ("model", lambda r: r.model.file_name or r.model_ref),
    ("quantization", lambda r: r.model.quantization or "—"),
    ("parameters", lambda r: human_params(r.model.n_params) or "—"),
    ("temperature", lambda r: f"{r.sampling.temperature:g}"),
    ("seed", lambda r: str(r.sampling.seed)),
    ("load time (s)", lambda r: _num(r.figures.load_s, 2)),
    ("prompt tokens", lambda r: _num(r.figures.prompt_tokens, 0)),
    ("generated tokens", lambda r: str(r.figures.generated_tokens)),
    ("TTFT (s)", lambda r: _num(r.figures.ttft_s, 3)),
    ("prompt speed (tok/s)", lambda r: _num(r.figures.prompt_tps, 1)),
    ("decode speed (tok/s)", lambda r: _num(r.figures.decode_tps, 1)),
    ("engine decode speed (tok/s)", lambda r: _num(r.figures.engine_decode_tps, 1)),
    ("overhead ratio", lambda r: _num(r.figures.overhead_ratio, 2)),
    ("mean log-probability", lambda r: _num(r.figures.mean_logprob, 3)),
    ("perplexity", lambda r: _num(r.figures.perplexity, 2)),
    ("mean entropy (nats)", lambda r: _num(r.figures.mean_entropy, 2)),
    ("peak RSS (MiB)", lambda r: _num(r.figures.peak_rss_mib, 0)),
    ("GPU memory (MiB)", lambda r: _num(r.figures.gpu_mem_mib, 0)),
    ("energy (J)", lambda r: _num(r.figures.energy_j, 1)),
    ("energy per token (J)", lambda r: _num(r.figures.energy_per_token_j, 3)),
    ("stop reason", lambda r: r.figures.stop_reason),
    ("threads", lambda r: _num(r.model.n_threads, 0)),
    (
        "GPU layers (asked / offloaded)",
        lambda r: f"{r.model.n_gpu_layers_requested} / {r.model.n_gpu_layers_offloaded}",
    ),
    ("backend", lambda r: r.model.backend or "—"),
]

_SERVER_ROWS: list[tuple[str, Callable[[RunResult], str]]] = [
    ("server KV cache use (%)", lambda r: _num(r.figures.server_kv_cache_pct, 1)),
    ("server requests running", lambda r: _num(r.figures.server_requests_running, 0)),
    ("server prompt throughput (tok/s)", lambda r: _num(r.figures.server_prompt_tps, 1)),
    ("server generation throughput (tok/s)", lambda r: _num(r.figures.server_generation_tps, 1)),
    ("server n_ctx", lambda r: _num(r.figures.server_n_ctx, 0)),
]
"""Shown only when some pane's server published its own figures."""

_FIDELITY_ROWS: list[tuple[str, Callable[[RunResult], str]]] = [
    ("perplexity", lambda r: _ppl(r)),
    ("KLD (mean)", lambda r: _num(r.fidelity.kld if r.fidelity else None, 4)),
    ("KLD (99th percentile)", lambda r: _num(r.fidelity.kld_p99 if r.fidelity else None, 4)),
    ("same top token (%)", lambda r: _num(r.fidelity.same_top_pct if r.fidelity else None, 1)),
    ("mean Δp (%)", lambda r: _num(r.fidelity.dp_mean_pct if r.fidelity else None, 2)),
    ("fidelity reference", lambda r: (r.fidelity.reference or "—") if r.fidelity else "—"),
]
"""Shown only when some result has fidelity figures (`llmbench run --fidelity`)."""


def _ppl(result: RunResult) -> str:
    fidelity = result.fidelity
    if fidelity is None or fidelity.ppl is None:
        return "—"
    return f"{fidelity.ppl:.3f} ± {fidelity.ppl_err or 0:.3f}"


def to_markdown(
    results: Sequence[RunResult], mode: str | None = None, title: str | None = None
) -> str:
    """A side-by-side table of figures (one column per pane), then each pane's answer."""
    mode = mode or _common_mode(results)
    profiles = sorted({r.profile for r in results if r.profile})
    heading = title or (f"Comparison: {', '.join(profiles)}" if profiles else "Comparison")
    lines = [f"# {heading}", ""]
    if results:
        lines += _context_lines(results, mode)
        lines += _figures_table(results, mode)
        for result in results:
            lines += _answer_section(result)
    else:
        lines.append("No results.")
    return "\n".join(lines).rstrip("\n") + "\n"


def _context_lines(results: Sequence[RunResult], mode: str | None) -> list[str]:
    first = results[0]
    fairness = {
        "parallel": "panes ran at the same time and shared the machine, so speeds are not a fair comparison",
        "sequential": "panes ran one after another, so speeds are comparable",
    }.get(mode or "", "")
    lines = [f"- Mode: {mode}" + (f" ({fairness})" if fairness else "")]
    marks = f"- {BEST_MARK}: best value among the finished runs"
    marks += " (no speed compared: parallel)" if mode == "parallel" else ""
    if any(is_cached(r.figures.cached_prompt_tokens) for r in results):
        marks += f"; {CACHED_MARK}: prompt served from the cache (not comparable)"
    lines.append(marks)
    host_parts = [first.cpu_name, ", ".join(first.gpu_names)]
    host = "; ".join(part for part in host_parts if part)
    if host:
        lines.append(f"- Host: {one_line(host)}")
    lines.append(f"- Date: {first.created_at}")
    lines.append("")
    prompt_lines = [f"> {line}" if line else ">" for line in first.prompt.splitlines() or [""]]
    lines += ["**Prompt**", "", *prompt_lines, ""]
    if first.system_prompt:
        lines += [
            "**System prompt**",
            "",
            *[f"> {line}" for line in first.system_prompt.splitlines()],
            "",
        ]
    return lines


_STARRED_ROWS: dict[str, Figure] = {
    "TTFT (s)": Figure("ttft_s", "min", 3, speed=True, cache_sensitive=True),
    "prompt speed (tok/s)": Figure("prompt_tps", "max", 1, speed=True, cache_sensitive=True),
    "decode speed (tok/s)": Figure("decode_tps", "max", 1, speed=True),
    "engine decode speed (tok/s)": Figure("engine_decode_tps", "max", 1, speed=True),
    "peak RSS (MiB)": Figure("peak_rss_mib", "min", 0),
    "GPU memory (MiB)": Figure("gpu_mem_mib", "min", 0),
    "energy (J)": Figure("energy_j", "min", 1, speed=True),
}
"""Markdown rows whose best value is starred, by `profiles.best`'s rule."""


def _figures_table(results: Sequence[RunResult], mode: str | None = None) -> list[str]:
    headers = ["", *[_cell(_column_title(r)) for r in results]]
    lines = [
        "| " + " | ".join(headers) + " |",
        "| " + " | ".join(["---", *["---:" for _ in results]]) + " |",
    ]
    records = [result_to_record(r) for r in results]
    contenders = [
        Contender(r.figures.stop_reason, record, cached=is_cached(r.figures.cached_prompt_tokens))
        for r, record in zip(results, records, strict=True)
    ]
    stars = starred(contenders, list(_STARRED_ROWS.values()), mode)
    has_server = any(v is not None for r in results for v in server_fields(r).values())
    rows = _TABLE_ROWS + (_SERVER_ROWS if has_server else [])
    rows += _FIDELITY_ROWS if any(r.fidelity for r in results) else []
    for name, value in rows:
        figure = _STARRED_ROWS.get(name)
        cells = []
        for result, contender, marks in zip(results, contenders, stars, strict=True):
            shown = value(result)
            if figure is not None and figure.key in marks:
                shown = f"{BEST_MARK} {shown}"
            elif figure is not None and figure.cache_sensitive and contender.cached:
                shown = f"{CACHED_MARK} {shown}" if shown != "—" else shown
            cells.append(_cell(shown))
        lines.append("| " + " | ".join([name, *cells]) + " |")
    return [*lines, ""]


def _column_title(result: RunResult) -> str:
    return (
        f"{result.pane_label} (run {result.repetition + 1})"
        if result.repetition
        else result.pane_label
    )


def _answer_section(result: RunResult) -> list[str]:
    fence = "`" * max(3, _longest_backtick_run(result.text) + 1)
    lines = [f"## {one_line(_column_title(result))}", ""]
    lines.append(
        f"`{result.model_ref}` · temperature {result.sampling.temperature:g} · seed {result.sampling.seed}"
    )
    if result.figures.error:
        lines.append(f"Error: {one_line(result.figures.error)}")
    lines += ["", f"{fence}text", result.text, fence, ""]
    return lines


def _longest_backtick_run(text: str) -> int:
    return max((len(run) for run in re.findall(r"`+", text)), default=0)


def _num(value: float | None, decimals: int) -> str:
    return "—" if value is None else f"{value:.{decimals}f}"


def _cell(text: str) -> str:
    return one_line(text).replace("|", "\\|")


# --- Files -----------------------------------------------------------------------------------


def write_json(
    results: Sequence[RunResult], path: str | os.PathLike[str], mode: str | None = None
) -> None:
    """Write `to_json` to `path` atomically."""
    atomic_write_text(path, to_json(results, mode=mode))


def write_csv(
    results: Sequence[RunResult], path: str | os.PathLike[str], mode: str | None = None
) -> None:
    """Write `to_csv` to `path` atomically (`mode` is in every row already)."""
    atomic_write_text(path, to_csv(results))


def write_markdown(
    results: Sequence[RunResult], path: str | os.PathLike[str], mode: str | None = None
) -> None:
    """Write `to_markdown` to `path` atomically."""
    atomic_write_text(path, to_markdown(results, mode=mode))
