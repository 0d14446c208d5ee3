"""What a server publishes about itself: llama-server's /metrics, /props and /slots, vLLM's
/metrics (Prometheus text), read after each answer of an `openai:` pane.

Each figure is None unless the server said it, so a server without these endpoints (or
with /metrics switched off: llama-server needs `--metrics`) changes nothing. Reading is
best-effort with a short timeout: it never fails a generation.

| figure | llama-server | vLLM |
| --- | --- | --- |
| KV cache use (%) | `llamacpp:kv_cache_usage_ratio`, else the slots' tokens / their n_ctx (/slots) | `vllm:kv_cache_usage_perc` or `vllm:gpu_cache_usage_perc` |
| requests running / waiting | `llamacpp:requests_processing` / `requests_deferred` | `vllm:num_requests_running` / `num_requests_waiting` |
| prompt / generation throughput (tok/s) | `llamacpp:prompt_tokens_seconds` / `predicted_tokens_seconds` | `vllm:avg_prompt_throughput_toks_per_s` / `avg_generation_throughput_toks_per_s` |
| slots (busy / total) | /slots `is_processing`, /props `total_slots` | — |
| model file, n_ctx | /props `model_path`, `default_generation_settings.n_ctx` | — |
"""

from __future__ import annotations

import dataclasses
import math
import re
from typing import Any

from engines.remote.client import ServerConnection, ServerError, Timeouts, split_base_url
from engines.types import GenerationStats, ServerFigures

METRICS_TIMEOUT = Timeouts(connect_s=2.0, read_s=3.0)
"""Reading a server's own figures never waits long: they are extras."""
SELF_REPORTING = ("llama.cpp", "vllm", "unknown")
"""Server kinds that may publish /metrics, /props or /slots."""

_SAMPLE = re.compile(
    r"^(?P<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{[^}]*\})?\s+(?P<value>[-+0-9.eEnNaIf]+)(?:\s+\d+)?$"
)


def parse_prometheus(text: str) -> dict[str, float]:
    """Prometheus text exposition → {metric name: value}, the values of a name's label sets
    summed (vLLM labels each metric with its model). Comments and bad lines are skipped."""
    values: dict[str, float] = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        match = _SAMPLE.match(line)
        if match is None:
            continue
        try:
            value = float(match["value"])
        except ValueError:
            continue
        if math.isnan(value) or math.isinf(value):
            continue
        values[match["name"]] = values.get(match["name"], 0.0) + value
    return values


def figures_from(
    metrics: dict[str, float], props: dict[str, Any], slots: list[Any]
) -> ServerFigures:
    """The figures in what a server answered on /metrics, /props and /slots."""
    generation = props.get("default_generation_settings")
    n_ctx = _count(props.get("n_ctx"))
    if n_ctx is None and isinstance(generation, dict):
        n_ctx = _count(generation.get("n_ctx"))
    slot_dicts = [slot for slot in slots if isinstance(slot, dict)]
    model_path = props.get("model_path")
    return ServerFigures(
        kv_cache_pct=_kv_cache_pct(metrics, slot_dicts),
        requests_running=_count(
            _first(metrics, "llamacpp:requests_processing", "vllm:num_requests_running"), zero=True
        ),
        requests_waiting=_count(
            _first(metrics, "llamacpp:requests_deferred", "vllm:num_requests_waiting"), zero=True
        ),
        prompt_tps=_first(
            metrics, "llamacpp:prompt_tokens_seconds", "vllm:avg_prompt_throughput_toks_per_s"
        ),
        generation_tps=_first(
            metrics,
            "llamacpp:predicted_tokens_seconds",
            "vllm:avg_generation_throughput_toks_per_s",
        ),
        slots_busy=sum(1 for slot in slot_dicts if slot.get("is_processing"))
        if slot_dicts
        else None,
        slots_total=_count(props.get("total_slots")) or (len(slot_dicts) or None),
        model_file=model_path if isinstance(model_path, str) and model_path else None,
        n_ctx=n_ctx,
    )


def read_server_figures(
    base_url: str, api_key: str | None, timeouts: Timeouts = METRICS_TIMEOUT
) -> ServerFigures:
    """Ask the server at `base_url` (its OpenAI /v1 URL) for its own figures."""
    root = _server_root(base_url)
    metrics_text = _get_text(root, "/metrics", api_key, timeouts)
    metrics = parse_prometheus(metrics_text) if metrics_text else {}
    props = _get_json(root, "/props", api_key, timeouts)
    slots = _get_json(root, "/slots", api_key, timeouts)
    return figures_from(
        metrics,
        props if isinstance(props, dict) else {},
        slots if isinstance(slots, list) else [],
    )


class ServerFigureReader:
    """Adds a server's own figures to each answer's stats, while the server publishes any.

    A server that said nothing after its first answer is not asked again, so a server
    without these endpoints costs one round of requests, once."""

    def __init__(self, base_url: str, api_key: str | None) -> None:
        self._base_url = base_url
        self._api_key = api_key
        self._self_reporting: bool | None = None
        """Whether the server published its own figures (None: not asked yet)."""

    def with_figures(self, stats: GenerationStats, server_kind: str) -> GenerationStats:
        """`stats` with what the server says about itself (llama-server, vLLM), if anything."""
        if stats.stop_reason in ("error", "cancelled") or server_kind not in SELF_REPORTING:
            return stats
        if self._self_reporting is False:
            return stats
        figures = read_server_figures(self._base_url, self._api_key)
        self._self_reporting = figures.known
        return dataclasses.replace(stats, server=figures) if figures.known else stats


def _kv_cache_pct(metrics: dict[str, float], slots: list[dict[str, Any]]) -> float | None:
    ratio = _first(metrics, "llamacpp:kv_cache_usage_ratio")
    if ratio is None:
        ratio = _first(metrics, "vllm:kv_cache_usage_perc", "vllm:gpu_cache_usage_perc")
    if ratio is not None:
        return 100.0 * ratio
    used = total = 0
    for slot in slots:
        n_ctx = _count(slot.get("n_ctx"))
        if n_ctx is None:
            continue
        total += n_ctx
        prompt = _count(slot.get("n_prompt_tokens"), zero=True) or 0
        decoded = 0
        for step in slot.get("next_token") or []:
            if isinstance(step, dict):
                decoded = _count(step.get("n_decoded"), zero=True) or 0
        used += min(n_ctx, prompt + decoded)
    return 100.0 * used / total if total else None


def _first(metrics: dict[str, float], *names: str) -> float | None:
    for name in names:
        if name in metrics:
            return metrics[name]
    return None


def _count(value: Any, zero: bool = False) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if value < 0 or (value == 0 and not zero):
        return None
    return int(value)


def _server_root(base_url: str) -> str:
    """`http://host:port/prefix` without the OpenAI `/v1`: where /metrics and /props live."""
    scheme, host, port, prefix = split_base_url(base_url)
    root = prefix[: -len("/v1")] if prefix.endswith("/v1") else prefix
    netloc = f"{host}:{port}" if port else host
    return f"{scheme}://{netloc}{root}"


def _get_json(root: str, path: str, api_key: str | None, timeouts: Timeouts) -> Any:
    try:
        return ServerConnection(root, timeouts, api_key).get_json(path)
    except ServerError:
        return None


def _get_text(root: str, path: str, api_key: str | None, timeouts: Timeouts) -> str:
    connection = ServerConnection(root, timeouts, api_key)
    try:
        response = connection.send("GET", path)
        body = connection.read_body(response, f"{root}{path}")
        content_type = (response.getheader("Content-Type") or "").lower()
    except (ServerError, OSError):
        return ""
    finally:
        connection.close()
    if "html" in content_type or "json" in content_type:
        return ""
    return body.decode("utf-8", errors="replace")
