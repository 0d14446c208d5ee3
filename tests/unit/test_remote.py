"""RemoteModelHandle and server listings against a scripted OpenAI-compatible server on loopback.

The stub (`openai_stub_server.py`) speaks real HTTP and SSE, so these tests exercise the
same client code as a real llama-server or vLLM: what is sent, how the stream becomes
events and figures, and every failure a server can produce. The real llama-cpp-python
server is in tests/e2e/test_remote_server.py.
"""

from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest
from openai_stub_server import OpenAIStub, StubReply, chunk, llama_server_models

from engines.catalog import configured_server_models
from engines.config import ConfigError
from engines.protocol import (
    Event,
    GenerationFinished,
    GenerationStarted,
    LoadFailed,
    ModelLoaded,
    TokensGenerated,
    Warned,
)
from engines.remote.client import ServerError
from engines.remote.handle import NEXT_REQUEST_NOTICE, RemoteModelHandle
from engines.remote.server_listing import (
    configured_servers,
    configured_timeouts,
    list_server_models,
)
from engines.types import GenerationRequest, ModelSettings, SamplingParams

SAMPLING = SamplingParams(
    temperature=0.3, top_p=0.9, top_k=20, min_p=0.1, repeat_penalty=1.2,
    max_tokens=16, stop=("\n\n",), seed=7,
)  # fmt: skip
TIMINGS = {
    "prompt_n": 9, "prompt_ms": 30.0, "prompt_per_second": 300.0,
    "predicted_n": 3, "predicted_ms": 20.0, "predicted_per_second": 150.0, "cache_n": 3,
}  # fmt: skip


def collect(handle: RemoteModelHandle, until: type, timeout: float = 10.0) -> list[Event]:
    """Events until one of type `until` (inclusive); fails after `timeout` seconds."""
    events: list[Event] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        events.extend(handle.next_events(0.1))
        if any(isinstance(event, until) for event in events):
            return events
    raise AssertionError(f"no {until.__name__} within {timeout} s; got {events}")


def loaded(stub: OpenAIStub, model: str | None = None, **kwargs) -> RemoteModelHandle:
    kwargs.setdefault("read_timeout_s", 5.0)
    kwargs.setdefault("connect_timeout_s", 2.0)
    handle = RemoteModelHandle(stub.url, model, **kwargs)
    handle.load(ModelSettings(path=f"openai:{stub.url}", label="served"))
    events = collect(handle, (ModelLoaded, LoadFailed))
    assert isinstance(events[-1], ModelLoaded), events[-1]
    return handle


def generate(
    handle: RemoteModelHandle, sampling: SamplingParams = SAMPLING, request_id: str = "r1"
):
    """(text, finished event, all events) of one run."""
    handle.generate(GenerationRequest("Name a colour.", sampling, "Be brief.", request_id))
    events = collect(handle, GenerationFinished)
    text = "".join(e.text for e in events if isinstance(e, TokensGenerated))
    return text, events[-1], events


def free_port() -> int:
    """A loopback port nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def llama_server_stream() -> StubReply:
    return StubReply(
        chunks=[
            chunk(None, None) | {"choices": [{"index": 0, "delta": {"role": "assistant"}}]},
            chunk("Deep"),
            chunk(" blue"),
            chunk("."),
            chunk(None, "stop", timings=TIMINGS),
            {"choices": [], "usage": {"prompt_tokens": 12, "completion_tokens": 3}},
        ],
        chunk_delay_s=0.05,
    )


# --- loading ----------------------------------------------------------------------------


def test_load_describes_the_served_model_and_leaves_the_unknown_unknown() -> None:
    props = {"default_generation_settings": {"n_ctx": 4096}, "build_info": "b6000-abc"}
    with OpenAIStub(props=props) as stub:
        handle = RemoteModelHandle(stub.url, None, read_timeout_s=5, connect_timeout_s=2)
        handle.load(ModelSettings(path="x", label="served"))
        info = collect(handle, ModelLoaded)[-1].info
        assert handle.next_events(0.1) == []
    assert info.backend == f"remote ({stub.url})"
    assert info.path == f"openai:{stub.url}#SmolLM2-135M-Instruct-Q4_K_M.gguf"
    assert info.file_name == "SmolLM2-135M-Instruct-Q4_K_M.gguf"
    assert info.quantization == "Q4_K_M"
    assert info.n_params == 134515008 and info.n_ctx_train == 8192 and info.n_ctx == 4096
    assert info.llama_cpp_version == "b6000-abc"
    assert info.file_size is None and info.n_layers is None and info.n_threads is None
    assert info.name == "served"
    assert info.warnings == ()
    assert handle.pid is None and handle.alive


def handle_info(stub: OpenAIStub):
    """Load a fresh handle on `stub` and return its ModelInfo."""
    handle = RemoteModelHandle(stub.url, None, read_timeout_s=5, connect_timeout_s=2)
    handle.load(ModelSettings(path="x", label="served"))
    return collect(handle, ModelLoaded)[-1].info


def test_a_server_that_is_down_fails_the_load_in_one_line() -> None:
    url = f"http://127.0.0.1:{free_port()}/v1"
    handle = RemoteModelHandle(url, "m", read_timeout_s=2, connect_timeout_s=2)
    handle.load(ModelSettings(path=url))
    failed = collect(handle, LoadFailed)[-1]
    assert "connection refused" in failed.reason and url in failed.reason
    assert "\n" not in failed.reason


def test_a_wrong_base_url_says_how_a_base_url_looks() -> None:
    with OpenAIStub(models_status=404, models_error={"detail": "Not Found"}) as stub:
        handle = RemoteModelHandle(stub.url, "m", None, 2.0)
        handle.load(ModelSettings(path=stub.url))
        failed = collect(handle, LoadFailed)[-1]
    assert "answered 404 Not Found" in failed.reason and "usually ends in /v1" in failed.reason


def test_a_401_names_the_status_the_server_message_and_where_the_key_comes_from(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("STUB_KEY", raising=False)
    error = {"error": {"message": "Invalid API key", "type": "invalid_request_error"}}
    with OpenAIStub(models_status=401, models_error=error) as stub:
        handle = RemoteModelHandle(stub.url, "m", None, 2.0, api_key_env="STUB_KEY")
        handle.load(ModelSettings(path=stub.url))
        failed = collect(handle, LoadFailed)[-1]
    assert "401" in failed.reason and "Invalid API key" in failed.reason
    assert "set STUB_KEY" in failed.reason


def test_the_api_key_goes_in_a_bearer_header() -> None:
    with OpenAIStub() as stub:
        handle = loaded(stub, api_key="sk-test-123")
        generate(handle)
    assert {r.headers.get("Authorization") for r in stub.requests} == {"Bearer sk-test-123"}


def test_a_missing_key_variable_is_a_warning_not_a_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_SUCH_KEY", raising=False)
    with OpenAIStub() as stub:
        handle = RemoteModelHandle(stub.url, None, None, 2.0, api_key_env="NO_SUCH_KEY")
        handle.load(ModelSettings(path="x"))
        info = collect(handle, ModelLoaded)[-1].info
    assert any("NO_SUCH_KEY is not set" in w for w in info.warnings)


def test_several_models_need_a_name_and_a_wrong_name_lists_them() -> None:
    models = [{"id": "a", "owned_by": "vllm"}, {"id": "b", "owned_by": "vllm"}]
    with OpenAIStub(models=models) as stub:
        for name, expected in (
            (None, "several models (a, b)"),
            ("c", "no model 'c'; it offers a, b"),
        ):
            handle = RemoteModelHandle(stub.url, name, None, 2.0)
            handle.load(ModelSettings(path="x"))
            assert expected in collect(handle, LoadFailed)[-1].reason


def test_servers_that_ignore_sampling_fields_say_so_at_load() -> None:
    with OpenAIStub(models=[{"id": "llama3.2:3b", "owned_by": "library"}]) as stub:
        handle = loaded(stub, "llama3.2:3b")
        info = handle_info(stub)
        generate(handle)
    assert any("ollama" in w and "top_k, min_p, repeat_penalty" in w for w in info.warnings)
    body = stub.chat_bodies()[-1]
    assert "top_k" not in body and "min_p" not in body and body["temperature"] == 0.3


# --- generating -------------------------------------------------------------------------


def test_a_streamed_answer_carries_every_sampling_value_and_the_server_figures() -> None:
    with OpenAIStub(replies=[llama_server_stream()]) as stub:
        handle = loaded(stub)
        text, finished, events = generate(handle)
    body = stub.chat_bodies()[0]
    assert body["messages"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Name a colour."},
    ]
    assert body["stream"] is True and body["stream_options"] == {"include_usage": True}
    assert body["model"] == "SmolLM2-135M-Instruct-Q4_K_M.gguf"
    sent = {
        k: body[k]
        for k in (
            "temperature",
            "top_p",
            "max_tokens",
            "seed",
            "stop",
            "top_k",
            "min_p",
            "repeat_penalty",
        )
    }
    assert sent == dict(temperature=0.3, top_p=0.9, max_tokens=16, seed=7, stop=["\n\n"],
                        top_k=20, min_p=0.1, repeat_penalty=1.2)  # fmt: skip
    assert text == "Deep blue."
    assert isinstance(events[0], GenerationStarted)
    stats = finished.stats
    assert stats.stop_reason == "stop" and stats.error is None
    assert stats.prompt_tokens == 12 and stats.generated_tokens == 3
    assert stats.cached_prompt_tokens == 3
    assert stats.prompt_tps == 300.0 and stats.engine_decode_tps == 150.0
    # Measured here: three chunks 50 ms apart → about 20 tokens/s, TTFT at least one delay.
    assert stats.ttft_s is not None and stats.ttft_s >= 0.05
    assert stats.decode_tps is not None and 5 < stats.decode_tps < 25
    assert stats.elapsed_s is not None and stats.elapsed_s >= stats.ttft_s
    assert (stats.peak_rss_mib, stats.gpu_mem_mib, stats.energy_j, stats.delivery_lag_p95_ms) == (
        None, None, None, None,
    )  # fmt: skip
    assert not any(isinstance(e, Warned) for e in events)


def test_vllm_gets_repetition_penalty_by_its_own_name() -> None:
    with OpenAIStub(
        models=[{"id": "Qwen/Qwen3-8B", "owned_by": "vllm", "max_model_len": 32768}]
    ) as stub:
        handle = loaded(stub)
        generate(handle)
        info = handle_info(stub)
    body = stub.chat_bodies()[0]
    assert body["repetition_penalty"] == 1.2 and "repeat_penalty" not in body
    assert info.n_ctx == 32768


def test_fast_tokens_arrive_in_batches_with_one_time_per_token() -> None:
    chunks = [chunk(f"t{i} ") for i in range(40)] + [chunk(None, "length")]
    with OpenAIStub(replies=[StubReply(chunks=chunks)]) as stub:
        handle = loaded(stub)
        text, finished, events = generate(handle, SAMPLING.with_changes(max_tokens=40))
    batches = [e for e in events if isinstance(e, TokensGenerated)]
    assert text == "".join(f"t{i} " for i in range(40))
    assert len(batches) < 40
    assert sum(b.n_tokens for b in batches) == 40
    assert all(len(b.ready_times) == b.n_tokens for b in batches)
    assert [b.first_token_index for b in batches] == [
        sum(x.n_tokens for x in batches[:i]) for i in range(len(batches))
    ]
    assert finished.stats.stop_reason == "length"


def test_a_server_without_token_counts_is_counted_by_chunks_and_says_so() -> None:
    chunks = [chunk("a"), chunk("b"), chunk(None, "stop")]
    with OpenAIStub(replies=[StubReply(chunks=chunks, chunk_delay_s=0.02)]) as stub:
        handle = loaded(stub)
        _, finished, events = generate(handle)
        _, _, second = generate(handle, request_id="r2")
    assert finished.stats.generated_tokens == 2 and finished.stats.prompt_tokens is None
    assert finished.stats.prompt_tps is None and finished.stats.engine_decode_tps is None
    assert [e for e in events if isinstance(e, Warned) and "no token counts" in e.message]
    assert not [e for e in second if isinstance(e, Warned)]  # said once per pane


def test_a_rejected_field_is_shown_and_the_request_sent_again_without_it() -> None:
    rejection = StubReply(
        status=400,
        error={"error": {"message": "Unrecognized request argument supplied: top_k"}},
    )
    ok = StubReply(chunks=[chunk("ok"), chunk(None, "stop")])
    with OpenAIStub(replies=[rejection, ok]) as stub:
        handle = loaded(stub)
        text, finished, events = generate(handle)
        generate(handle, request_id="r2")
    warned = [
        e.message for e in events if isinstance(e, Warned) and "token counts" not in e.message
    ]
    assert len(warned) == 1 and "rejected top_k" in warned[0] and "Unrecognized" in warned[0]
    assert text == "ok" and finished.stats.stop_reason == "stop"
    first, second, third = stub.chat_bodies()
    assert "top_k" in first and "top_k" not in second and "top_k" not in third
    assert "min_p" in second


def test_an_http_error_ends_the_run_with_status_and_message() -> None:
    error = StubReply(status=500, error={"error": {"message": "CUDA error: out of memory\n at x"}})
    with OpenAIStub(replies=[error]) as stub:
        handle = loaded(stub)
        _, finished, _ = generate(handle)
    stats = finished.stats
    assert stats.stop_reason == "error"
    assert "500" in stats.error and "CUDA error: out of memory at x" in stats.error
    assert "\n" not in stats.error


def test_a_stream_dropped_mid_answer_is_an_error_after_the_tokens_it_gave() -> None:
    dropped = StubReply(chunks=[chunk("one"), chunk(" two")], done=False)
    with OpenAIStub(replies=[dropped]) as stub:
        handle = loaded(stub)
        text, finished, _ = generate(handle)
    assert text == "one two"
    assert finished.stats.stop_reason == "error"
    assert "ended the stream mid-answer, after 2 tokens" in finished.stats.error
    assert finished.stats.generated_tokens == 2


def test_an_error_inside_the_stream_is_shown() -> None:
    broken = StubReply(chunks=[chunk("x"), {"error": {"message": "context size exceeded"}}])
    with OpenAIStub(replies=[broken]) as stub:
        handle = loaded(stub)
        _, finished, _ = generate(handle)
    assert finished.stats.stop_reason == "error"
    assert "context size exceeded" in finished.stats.error


def test_a_silent_server_times_out_after_the_read_timeout() -> None:
    with OpenAIStub(replies=[StubReply(hang_s=3.0)]) as stub:
        handle = loaded(stub, read_timeout_s=0.4)
        started = time.monotonic()
        _, finished, _ = generate(handle)
        waited = time.monotonic() - started
    assert finished.stats.stop_reason == "error"
    assert "sent nothing for 0.4 s (read timeout" in finished.stats.error
    assert waited < 2.5


def test_cancel_closes_the_stream_at_once() -> None:
    endless = StubReply(chunks=[chunk("go")], chunk_delay_s=0.05, forever=True, done=False)
    with OpenAIStub(replies=[endless]) as stub:
        handle = loaded(stub)
        handle.generate(GenerationRequest("Count.", SAMPLING, None, "r1"))
        collect(handle, TokensGenerated)
        cancelled_at = time.monotonic()
        handle.cancel()
        finished = collect(handle, GenerationFinished)[-1]
        took = time.monotonic() - cancelled_at
        assert stub.disconnected.wait(3.0)
    assert finished.stats.stop_reason == "cancelled" and finished.stats.error is None
    assert took < 1.0


def test_a_sampling_change_while_answering_applies_to_the_next_request() -> None:
    slow = StubReply(chunks=[chunk("a"), chunk("b"), chunk(None, "stop")], chunk_delay_s=0.2)
    with OpenAIStub(replies=[slow]) as stub:
        handle = loaded(stub)
        handle.update_sampling(SAMPLING.with_changes(temperature=1.5))  # idle: nothing to say
        assert handle.next_events(0.1) == []
        handle.generate(GenerationRequest("x", SAMPLING, None, "r1"))
        collect(handle, TokensGenerated)
        handle.update_sampling(SAMPLING.with_changes(temperature=1.5))
        handle.update_sampling(SAMPLING.with_changes(temperature=1.6))
        events = collect(handle, GenerationFinished)
        generate(handle, SAMPLING.with_changes(temperature=1.6), request_id="r2")
    notices = [e for e in events if isinstance(e, Warned) and e.message == NEXT_REQUEST_NOTICE]
    assert len(notices) == 1
    assert [b["temperature"] for b in stub.chat_bodies()] == [0.3, 1.6]


def test_a_server_that_does_not_stream_still_answers_and_says_what_that_costs() -> None:
    completion = {
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "Blue."}, "finish_reason": "length"}],
        "usage": {"prompt_tokens": 9, "completion_tokens": 2},
    }  # fmt: skip
    with OpenAIStub(replies=[StubReply(whole=completion)]) as stub:
        handle = loaded(stub)
        text, finished, events = generate(handle)
    assert text == "Blue."
    stats = finished.stats
    assert (stats.stop_reason, stats.prompt_tokens, stats.generated_tokens) == ("length", 9, 2)
    assert stats.ttft_s is not None and stats.decode_tps is None
    assert any("without streaming" in e.message for e in events if isinstance(e, Warned))


def test_reasoning_text_is_shown_inside_think_tags() -> None:
    reasoning = {"choices": [{"index": 0, "delta": {"reasoning_content": "hmm"}}]}
    with OpenAIStub(
        replies=[StubReply(chunks=[reasoning, chunk("Red"), chunk(None, "stop")])]
    ) as stub:
        handle = loaded(stub)
        text, _, _ = generate(handle)
    assert text == "<think>hmm</think>\nRed"


def test_close_makes_the_handle_unusable() -> None:
    with OpenAIStub() as stub:
        handle = loaded(stub)
        handle.close()
        handle.close()
    assert not handle.alive


# --- listing servers and config.toml -----------------------------------------------------


def write_config(isolated_dirs: Path, text: str) -> None:
    folder = isolated_dirs / "config/llmbench"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.toml").write_text(text, encoding="utf-8")


def test_list_server_models_names_what_the_server_offers() -> None:
    with OpenAIStub(models=llama_server_models("a.gguf") + [{"id": "b"}]) as stub:
        assert list_server_models(stub.url) == ["a.gguf", "b"]
    with pytest.raises(ServerError, match="connection refused"):
        list_server_models(f"http://127.0.0.1:{free_port()}/v1")


def test_configured_servers_list_their_models_as_references(
    isolated_dirs: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STUB_KEY", "sk-abc")
    down = f"http://127.0.0.1:{free_port()}/v1"
    with OpenAIStub() as stub:
        write_config(
            isolated_dirs,
            f'servers = [{{ url = "{stub.url}/", api_key_env = "STUB_KEY" }}, "{down}"]\n'
            "[remote]\nconnect_timeout_s = 1.5\nread_timeout_s = 30\n",
        )
        up_listing, down_listing = configured_server_models()
    assert up_listing.refs == [f"openai:{stub.url}#SmolLM2-135M-Instruct-Q4_K_M.gguf"]
    assert stub.requests[0].headers["Authorization"] == "Bearer sk-abc"
    assert down_listing.models == () and "connection refused" in down_listing.error
    timeouts = configured_timeouts()
    assert (timeouts.connect_s, timeouts.read_s) == (1.5, 30.0)


def test_served_models_come_as_discovery_entries(isolated_dirs: Path) -> None:
    from engines.catalog import served_models

    down = f"http://127.0.0.1:{free_port()}/v1"
    with OpenAIStub(models=[{"id": "a", "owned_by": "vllm"}, {"id": "b"}]) as stub:
        write_config(isolated_dirs, f'servers = ["{stub.url}", "{down}"]\n')
        entries = served_models()
    assert [(e.source, e.ref, e.name, e.error) for e in entries[:2]] == [
        ("server", f"openai:{stub.url}#a", "a", None),
        ("server", f"openai:{stub.url}#b", "b", None),
    ]
    assert entries[2].ref == f"openai:{down}" and "connection refused" in entries[2].error
    assert entries[0].to_dict()["metadata"] is None


def test_no_config_means_no_servers_and_default_timeouts() -> None:
    assert configured_servers() == []
    assert configured_timeouts().read_s == 120.0


@pytest.mark.parametrize(
    "text, message",
    [
        ('servers = "http://x:1/v1"', "servers must be a list of URLs"),
        ('servers = ["ftp://x/v1"]', r"not an http\(s\) server URL"),
        ("[remote]\nread_timeout_s = 0", "read_timeout_s must be a number of seconds above 0"),
        ("servers = [", "not valid TOML"),
    ],
)
def test_a_bad_config_is_one_line_naming_the_file(
    isolated_dirs: Path, text: str, message: str
) -> None:
    write_config(isolated_dirs, text)
    with pytest.raises(ConfigError, match=message) as caught:
        configured_servers()
        configured_timeouts()
    assert "config.toml" in str(caught.value)


def test_timeouts_from_config_apply_to_a_handle(isolated_dirs: Path) -> None:
    write_config(isolated_dirs, "[remote]\nread_timeout_s = 0.3\n")
    with OpenAIStub(replies=[StubReply(hang_s=2.0)]) as stub:
        handle = RemoteModelHandle(stub.url)
        handle.load(ModelSettings(path="x"))
        collect(handle, ModelLoaded)
        _, finished, _ = generate(handle)
    assert handle.timeouts is not None and handle.timeouts.read_s == 0.3
    assert "sent nothing for 0.3 s" in finished.stats.error


def test_a_profile_server_pane_opens_a_remote_handle(monkeypatch: pytest.MonkeyPatch) -> None:
    from profiles.plan import build_plan, open_handle
    from profiles.schema import Profile

    monkeypatch.setenv("GPU_BOX_KEY", "sk-from-env")
    profile = Profile.model_validate(
        {
            "name": "mixed",
            "panes": [
                {"model": "openai:http://127.0.0.1:8080/v1#qwen", "api_key_env": "GPU_BOX_KEY"},
            ],
        }  # fmt: skip
    )
    [plan] = build_plan(profile)
    handle = open_handle(plan)
    assert isinstance(handle, RemoteModelHandle)
    assert (handle.base_url, handle.model, handle.api_key) == (
        "http://127.0.0.1:8080/v1", "qwen", "sk-from-env",
    )  # fmt: skip
    assert handle.api_key_env == "GPU_BOX_KEY"


def test_the_readme_examples_for_servers_are_valid(isolated_dirs: Path) -> None:
    import tomllib

    from profiles.schema import PaneSpec

    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Comparing across machines", 1)[1].split("\n## ", 1)[0]
    pane, config, rpc = [block.split("```", 1)[0] for block in section.split("```toml\n")[1:]]
    spec = PaneSpec.model_validate(tomllib.loads(pane)["panes"][0])
    assert spec.api_key_env == "GPU_BOX_KEY" and spec.model.startswith("openai:")
    write_config(isolated_dirs, config)
    assert [s.api_key_env for s in configured_servers()] == [None, "VLLM_KEY"]
    assert configured_timeouts().connect_s == 10.0
    settings = PaneSpec.model_validate({"model": "x.gguf", **tomllib.loads(rpc)["panes"]})
    assert settings.settings.to_settings("x.gguf").rpc_servers == (
        "192.168.1.20:50052", "192.168.1.21:50052",
    )  # fmt: skip


def test_this_machines_energy_is_never_charged_to_a_server_pane() -> None:
    """A server pane's energy cannot be known from here; a local meter must not fill it in."""
    from types import SimpleNamespace

    import profiles.runner as runner
    from engines.machine.run_meter import RunMeter
    from profiles.plan import build_plan
    from profiles.run_driver import DriverOptions
    from profiles.schema import Profile

    class Meter:
        def stop(self) -> SimpleNamespace:
            return SimpleNamespace(gpu_j=5.0, cpu_j=3.0)

    options = DriverOptions(run_meter=lambda: RunMeter(energy_meter=Meter))
    with OpenAIStub(replies=[llama_server_stream()]) as stub:
        profile = Profile.model_validate(
            {"name": "remote", "panes": [{"model": f"openai:{stub.url}"}]}
        )
        outcome = runner.run_comparison(
            build_plan(profile), "Colour?", history=False, driver_options=options
        )
    assert outcome.ok, outcome.failures
    [result] = outcome.results
    assert result.figures.energy_j is None and result.figures.cpu_energy_j is None
    assert result.figures.generated_tokens == 3
