"""A server's own figures (/metrics, /props, /slots) for `openai:` panes: parsed from the
texts llama-server and vLLM really write, read from the stub server after an answer, shown
in the results and the pane; a server without them is unchanged. The real llama-server
(`make llama-tools`) is tested at the end."""

from __future__ import annotations

import socket
import subprocess
import time

import pytest
from llama_tools import llama_tool
from openai_stub_server import OpenAIStub
from result_samples import make_result
from test_remote import generate, llama_server_stream, loaded

from engines.remote.server_metrics import figures_from, parse_prometheus, read_server_figures
from engines.types import ServerFigures
from profiles.export_fields import result_to_record
from profiles.markdown_export import to_markdown

LLAMA_SERVER_METRICS = """\
# HELP llamacpp:prompt_tokens_total Number of prompt tokens processed.
# TYPE llamacpp:prompt_tokens_total counter
llamacpp:prompt_tokens_total 120
# HELP llamacpp:prompt_tokens_seconds Average prompt throughput in tokens/s.
# TYPE llamacpp:prompt_tokens_seconds gauge
llamacpp:prompt_tokens_seconds 812.5
llamacpp:predicted_tokens_seconds 95.25
llamacpp:requests_processing 1
llamacpp:requests_deferred 0
"""

VLLM_METRICS = """\
# HELP vllm:num_requests_running Number of requests in model execution batches.
# TYPE vllm:num_requests_running gauge
vllm:num_requests_running{engine="0",model_name="Qwen/Qwen2.5-1.5B-Instruct"} 2.0
vllm:num_requests_waiting{engine="0",model_name="Qwen/Qwen2.5-1.5B-Instruct"} 1.0
# TYPE vllm:kv_cache_usage_perc gauge
vllm:kv_cache_usage_perc{engine="0",model_name="Qwen/Qwen2.5-1.5B-Instruct"} 0.125
vllm:avg_generation_throughput_toks_per_s{model_name="Qwen/Qwen2.5-1.5B-Instruct"} 431.7
vllm:generation_tokens_total{model_name="Qwen/Qwen2.5-1.5B-Instruct"} 1.2e3
"""

PROPS = {
    "total_slots": 2,
    "model_path": "/models/SmolLM2-135M-Instruct-Q4_K_M.gguf",
    "default_generation_settings": {"n_ctx": 4096},
    "build_info": "b6123-0c1e570",
}
SLOTS = [
    {"id": 0, "n_ctx": 4096, "is_processing": False, "n_prompt_tokens": 12,
     "next_token": [{"n_decoded": 3}]},
    {"id": 1, "n_ctx": 4096, "is_processing": True, "n_prompt_tokens": 1009,
     "next_token": [{"n_decoded": 0}]},
]  # fmt: skip


def test_prometheus_text_with_labels_comments_and_bad_lines():
    text = VLLM_METRICS + "garbage line\nvllm:nan_metric NaN\n"
    values = parse_prometheus(text)
    assert values["vllm:num_requests_running"] == 2.0
    assert values["vllm:generation_tokens_total"] == 1200.0
    assert "vllm:nan_metric" not in values and "garbage" not in values


def test_llama_server_figures_from_metrics_props_and_slots():
    figures = figures_from(parse_prometheus(LLAMA_SERVER_METRICS), PROPS, SLOTS)
    assert figures == ServerFigures(
        kv_cache_pct=pytest.approx(100 * (12 + 3 + 1009) / 8192),
        requests_running=1,
        requests_waiting=0,
        prompt_tps=812.5,
        generation_tps=95.25,
        slots_busy=1,
        slots_total=2,
        model_file="/models/SmolLM2-135M-Instruct-Q4_K_M.gguf",
        n_ctx=4096,
    )


def test_vllm_figures_from_metrics():
    figures = figures_from(parse_prometheus(VLLM_METRICS), {}, [])
    assert figures.kv_cache_pct == pytest.approx(12.5)
    assert (figures.requests_running, figures.requests_waiting) == (2, 1)
    assert figures.generation_tps == pytest.approx(431.7)
    assert figures.slots_total is None and figures.model_file is None


def test_nothing_published_is_nothing_known():
    assert not figures_from({}, {}, []).known


def test_an_answer_carries_the_servers_figures_into_results_and_exports():
    with OpenAIStub(
        replies=[llama_server_stream()], props=PROPS, metrics=LLAMA_SERVER_METRICS, slots=SLOTS
    ) as stub:
        handle = loaded(stub)
        _, finished, _ = generate(handle)
    server = finished.stats.server
    assert server is not None
    assert server.prompt_tps == 812.5 and server.slots_total == 2 and server.n_ctx == 4096
    result = make_result(run_stats=finished.stats)
    record = result_to_record(result)
    assert record["server_kv_cache_pct"] == pytest.approx(server.kv_cache_pct)
    assert record["server_generation_tps"] == 95.25
    assert record["server_model_file"] == PROPS["model_path"]
    assert "server KV cache use (%)" in to_markdown([result])


def test_vllm_answer_reads_only_metrics():
    models = [{"id": "Qwen/Qwen2.5-1.5B-Instruct", "object": "model", "owned_by": "vllm"}]
    with OpenAIStub(models=models, replies=[llama_server_stream()], metrics=VLLM_METRICS) as stub:
        handle = loaded(stub)
        _, finished, _ = generate(handle)
    assert finished.stats.server is not None
    assert finished.stats.server.kv_cache_pct == pytest.approx(12.5)


def test_a_server_without_them_is_unchanged_and_asked_once():
    with OpenAIStub(replies=[llama_server_stream()]) as stub:
        handle = loaded(stub)
        _, finished, _ = generate(handle)
        generate(handle, request_id="r2")
    assert finished.stats.server is None
    asked = [r.path for r in stub.requests if r.path in ("/metrics", "/slots")]
    assert asked == ["/metrics", "/slots"]
    result = make_result(run_stats=finished.stats)
    assert all(v is None for k, v in result_to_record(result).items() if k.startswith("server_"))
    assert "server KV" not in to_markdown([result])


def test_a_server_that_is_gone_after_the_answer_changes_nothing():
    with OpenAIStub() as stub:
        url = stub.url
    assert not read_server_figures(url, None).known


def test_the_pane_shows_kv_cache_use_and_slots():
    from result_samples import stats as sample_stats

    from tui.widgets.pane_stats import StatsFigures, format_figures

    figures = StatsFigures.from_stats(
        sample_stats(server=ServerFigures(kv_cache_pct=25.0, slots_busy=1, slots_total=4))
    )
    line = format_figures(figures).plain
    assert "KV 25%" in line and "slots 1/4 busy" in line
    assert "KV" not in format_figures(StatsFigures.from_stats(sample_stats())).plain


# --- the real llama-server ------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.real_model
def test_the_real_llama_server_publishes_its_figures(smollm2_path):
    server_binary = llama_tool("llama-server")
    if server_binary is None:
        pytest.skip("llama-server not built: run `make llama-tools`")
    port = _free_port()
    process = subprocess.Popen(
        [str(server_binary), "-m", str(smollm2_path), "--port", str(port), "--host", "127.0.0.1",
         "-c", "1024", "-np", "1", "-t", "2", "--metrics"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        stub_url = f"http://127.0.0.1:{port}/v1"
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if read_server_figures(stub_url, None).known:
                break
            assert process.poll() is None, "llama-server exited"
            time.sleep(0.5)

        class Server:
            url = stub_url

        handle = loaded(Server)  # type: ignore[arg-type]
        from engines.types import SamplingParams

        _, finished, _ = generate(handle, SamplingParams(max_tokens=8, seed=1))
        server = finished.stats.server
        assert finished.stats.error is None
        assert server is not None
        assert server.model_file and server.model_file.endswith(smollm2_path.name)
        assert server.n_ctx == 1024 and server.slots_total == 1
        assert server.generation_tps is not None and server.generation_tps > 0
        assert server.kv_cache_pct is not None and 0 < server.kv_cache_pct <= 100
    finally:
        process.terminate()
        process.wait(timeout=20)
