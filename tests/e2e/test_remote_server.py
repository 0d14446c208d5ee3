"""Remote panes against a REAL OpenAI-compatible server on loopback: llama-cpp-python's own
(`python -m llama_cpp.server`, the `server` extra) serving the SmolLM2 demo model.

One server (with an API key) serves the module; the test that kills a server mid-answer
starts its own. Answers are kept short (n_ctx 512, a few dozen tokens) because the build
machines share two cores.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

pytest.importorskip("sse_starlette", reason="needs llama-cpp-python's `server` extra")

from engines.protocol import (  # noqa: E402 - after the skip check
    GenerationFinished,
    LoadFailed,
    ModelLoaded,
    TokensGenerated,
)
from engines.remote.handle import RemoteModelHandle  # noqa: E402
from engines.types import GenerationRequest, ModelSettings, SamplingParams  # noqa: E402

pytestmark = pytest.mark.real_model

API_KEY = "sk-llmbench-test"
KEY_ENV = "LLMBENCH_TEST_SERVER_KEY"
MODEL_ALIAS = "smollm2-135m"
PROMPT = "Why is the sky blue? Answer in one sentence."
MAX_TOKENS = 16
LLMBENCH = Path(sys.executable).parent / "llmbench"


@dataclass
class Server:
    url: str
    process: subprocess.Popen
    log: Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(model: Path, log: Path, api_key: str | None = None) -> Server:
    """llama-cpp-python's server on a free loopback port, once it lists its model."""
    port = free_port()
    command = [
        sys.executable, "-m", "llama_cpp.server", "--model", str(model),
        "--model_alias", MODEL_ALIAS, "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "512",
    ]  # fmt: skip
    if api_key:
        command += ["--api_key", api_key]
    process = subprocess.Popen(
        command, stdout=log.open("wb"), stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
    )
    server = Server(f"http://127.0.0.1:{port}/v1", process, log)
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited: {log.read_text(errors='replace')[-2000:]}")
        try:
            request = urllib.request.Request(f"{server.url}/models", headers=headers)
            with urllib.request.urlopen(request, timeout=2) as answer:
                if answer.status == 200:
                    return server
        except OSError:
            time.sleep(0.3)
    stop_server(server)
    raise RuntimeError("server did not list its model within 120 s")


def stop_server(server: Server) -> None:
    if server.process.poll() is None:
        server.process.send_signal(signal.SIGTERM)
        try:
            server.process.wait(10)
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait(10)


@pytest.fixture(scope="module")
def server(smollm2_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One llama-cpp-python server (API key required) for the module."""
    log = tmp_path_factory.mktemp("llama-server") / "server.log"
    running = start_server(smollm2_path, log, api_key=API_KEY)
    yield running
    stop_server(running)


def collect(handle: RemoteModelHandle, until: tuple[type, ...], timeout: float = 120.0) -> list:
    events: list = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        events.extend(handle.next_events(0.2))
        if any(isinstance(event, until) for event in events):
            return events
    raise AssertionError(f"none of {until} within {timeout} s; got {events[-5:]}")


def mixed_profile(server: Server, tmp_path: Path) -> Path:
    """A profile with a local pane and a server pane on the same model, prompt and seed."""
    path = tmp_path / "local-vs-server.toml"
    path.write_text(
        f"""
name = "local-vs-server"
prompt = "{PROMPT}"
mode = "sequential"

[sampling]
temperature = 0.0
seed = 11
max_tokens = {MAX_TOKENS}

[[panes]]
model = "demo:smollm2-135m"
label = "local"
settings = {{ n_ctx = 512 }}

[[panes]]
model = "openai:{server.url}#{MODEL_ALIAS}"
label = "server"
api_key_env = "{KEY_ENV}"
""",
        encoding="utf-8",
    )
    return path


def test_headless_run_compares_a_local_pane_and_a_server_pane(
    server: Server, tmp_path: Path, isolated_dirs: Path
) -> None:
    out_json = tmp_path / "out.json"
    profile = mixed_profile(server, tmp_path)
    result = subprocess.run(
        [str(LLMBENCH), "run", "--profile", str(profile), "--json", str(out_json), "--show-text"],
        capture_output=True, text=True, timeout=400, cwd=isolated_dirs, stdin=subprocess.DEVNULL,
        env={**os.environ, KEY_ENV: API_KEY},
    )  # fmt: skip
    assert "Traceback" not in result.stdout + result.stderr, result.stderr
    assert result.returncode == 0, result.stderr
    local, remote = json.loads(out_json.read_text(encoding="utf-8"))["results"]
    for record in (local, remote):
        assert record["text"].strip()
        assert record["temperature"] == 0.0 and record["seed"] == 11
        assert record["stop_reason"] in ("stop", "length")
        assert 1 <= record["n_gen"] <= MAX_TOKENS
        assert record["ttft_s"] > 0
        if record["n_gen"] >= 2:
            assert record["decode_tps"] > 0
    # The same model, prompt and greedy decoding: the answers begin alike. (Not byte for
    # byte: the server batches the prompt differently, and near-ties in a 4-bit 135M model
    # can go either way later on.)
    assert local["text"].split()[0] == remote["text"].split()[0]
    assert remote["model_ref"] == f"openai:{server.url}#{MODEL_ALIAS}"
    assert remote["model_filename"] == MODEL_ALIAS
    # What cannot be known from here stays unknown, never 0.
    assert local["peak_rss_mib"] > 50
    assert remote["peak_rss_mib"] is None and remote["gpu_mem_mib"] is None
    assert remote["energy_j"] is None and remote["engine_decode_tps"] is None
    assert remote["n_threads"] is None and local["n_threads"] >= 1
    assert "no token counts" in result.stderr  # llama-cpp-python sends no usage when streaming
    assert remote["n_prompt"] is None and local["n_prompt"] > 0


async def test_the_workbench_runs_a_local_pane_and_a_server_pane(
    server: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from profiles.store import load_profile
    from tui.app import make_app
    from tui.pane_controller import PaneState
    from tui.widgets.pane_header import describe_model

    monkeypatch.setenv(KEY_ENV, API_KEY)
    profile = load_profile(str(mixed_profile(server, tmp_path)))
    app = make_app(profile, history=False, hash_files=False, resource_sampler=None)
    done = (PaneState.DONE, PaneState.ERROR, PaneState.CRASHED)

    async def wait_for(states: tuple, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not all(pane.state in states for pane in app.workbench.panes):
            assert time.monotonic() < deadline, [p.state for p in app.workbench.panes]
            await pilot.pause(0.2)

    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for((PaneState.READY, PaneState.ERROR), 120)
        await pilot.press("ctrl+r")
        await wait_for(done, 300)
        local, remote = app.workbench.panes
        assert [local.state, remote.state] == [PaneState.DONE, PaneState.DONE], (
            remote.controller.reason
        )
        assert local.answer.strip() and remote.answer.strip()
        info = remote.controller.info
        assert info.backend == f"remote ({server.url})"
        header = describe_model(info)
        assert "remote (" in header and "GPU" not in header and "ctx 0" not in header
        stats = remote.controller.stats
        assert stats.ttft_s > 0 and 1 <= stats.generated_tokens <= MAX_TOKENS
        assert stats.peak_rss_mib is None
        assert any("no token counts" in warning for warning in remote.controller.warnings)


def test_a_wrong_key_is_refused_with_the_servers_reason(server: Server) -> None:
    handle = RemoteModelHandle(server.url, MODEL_ALIAS, "not-the-key", 30.0)
    handle.load(ModelSettings(path=server.url))
    failed = collect(handle, (LoadFailed, ModelLoaded))[-1]
    assert isinstance(failed, LoadFailed)
    assert "401" in failed.reason and "Invalid API key" in failed.reason
    assert "was refused" in failed.reason and "\n" not in failed.reason


def test_the_servers_logprobs_become_token_records_for_the_token_view(server: Server) -> None:
    import math

    handle = RemoteModelHandle(server.url, MODEL_ALIAS, API_KEY, 60.0)
    handle.load(ModelSettings(path=server.url))
    assert isinstance(collect(handle, (LoadFailed, ModelLoaded))[-1], ModelLoaded)
    assert handle.server_kind == "llama-cpp-python" and handle.serves_token_probabilities
    sampling = SamplingParams(temperature=0.8, max_tokens=MAX_TOKENS, seed=5)
    handle.generate(GenerationRequest(PROMPT, sampling, None, "logprobs", top_candidates=3))
    events = collect(handle, (GenerationFinished,))
    handle.close()
    text = "".join(e.text for e in events if isinstance(e, TokensGenerated))
    records = [r for e in events if isinstance(e, TokensGenerated) for r in e.probabilities]
    stats = events[-1].stats
    assert stats.error is None and len(records) == stats.generated_tokens > 0
    assert "".join(r.text for r in records) == text
    for record in records:
        assert 0 < record.probability <= 1 and record.raw_candidates == ()
        assert sum(c.probability for c in record.candidates) <= 1 + 1e-4
        assert record.token_id in [c.token_id for c in record.candidates]
    mean = sum(math.log(r.probability) for r in records) / len(records)
    assert stats.mean_logprob == pytest.approx(mean)
    assert stats.perplexity == pytest.approx(math.exp(-mean))


def test_wrong_urls_fail_the_load_in_one_line(server: Server) -> None:
    nobody = f"http://127.0.0.1:{free_port()}/v1"
    wrong_path = server.url.replace("/v1", "/api/v9")
    for url, expected in ((nobody, "connection refused"), (wrong_path, "404 Not Found")):
        handle = RemoteModelHandle(url, MODEL_ALIAS, API_KEY, 30.0, connect_timeout_s=5.0)
        handle.load(ModelSettings(path=url))
        failed = collect(handle, (LoadFailed, ModelLoaded))[-1]
        assert isinstance(failed, LoadFailed) and expected in failed.reason, failed


def test_a_server_killed_mid_answer_ends_the_run_with_a_clear_error(
    smollm2_path: Path, tmp_path: Path
) -> None:
    doomed = start_server(smollm2_path, tmp_path / "doomed.log")
    try:
        handle = RemoteModelHandle(doomed.url, None, None, 30.0, connect_timeout_s=5.0)
        handle.load(ModelSettings(path=doomed.url))
        assert isinstance(collect(handle, (LoadFailed, ModelLoaded))[-1], ModelLoaded)
        sampling = SamplingParams(temperature=0.8, max_tokens=400, seed=3)
        handle.generate(GenerationRequest("Write a long story about a lighthouse.", sampling))
        collect(handle, (TokensGenerated,))
        doomed.process.kill()
        killed_at = time.monotonic()
        finished = collect(handle, (GenerationFinished,), timeout=30)[-1]
        waited = time.monotonic() - killed_at
    finally:
        stop_server(doomed)
    stats = finished.stats
    assert stats.stop_reason == "error", stats
    assert "stream" in stats.error and doomed.url in stats.error and "\n" not in stats.error
    assert stats.generated_tokens >= 1
    assert waited < 10
