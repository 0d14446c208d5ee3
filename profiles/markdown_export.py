"""The Markdown export of a comparison's results: the panes side by side, then each answer.

One table of figures with a column per pane (★ on the best values, ↺ on figures of a
prompt served from the cache, by `profiles.best`'s rule), then each pane's answer in a
fence longer than any run of backticks it holds.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Sequence

from engines.messages import one_line
from profiles.atomic import atomic_write_text
from profiles.best import BEST_MARK, CACHED_MARK, Contender, Figure, is_cached, starred
from profiles.export_fields import common_mode, human_params, result_to_record, server_fields
from profiles.results import RunResult

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
    mode = mode or common_mode(results)
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


def write_markdown(
    results: Sequence[RunResult], path: str | os.PathLike[str], mode: str | None = None
) -> None:
    """Write `to_markdown` to `path` atomically."""
    atomic_write_text(path, to_markdown(results, mode=mode))
