"""`llmbench pull` against endpoints that are broken, silent, refuse, are offline, or alter files.

Every endpoint is a real server (or a real closed port) on 127.0.0.1. A pull that could hang
runs in a thread joined with a timeout, so a client without a read timeout fails the test
instead of hanging it.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import huggingface_hub.constants
import pytest
from click.testing import CliRunner
from fake_hub import FakeHub, FakeRepo
from gguf_samples import write_sample_gguf

from engines.models.hub import DownloadError, cached_model_path, hf_cache_dir, pull
from engines.models.transfer import PARTIAL_SUFFIX
from tui.cli import cli

REPO = "tester/Tiny-GGUF"
REF = f"hf:{REPO}:Q4_K_M"
FILE = "Tiny-Q4_K_M.gguf"


@pytest.fixture
def model_bytes(tmp_path: Path) -> bytes:
    return write_sample_gguf(tmp_path / "q4.gguf", file_type=15).read_bytes()


@pytest.fixture
def online(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Downloads allowed; returns the backoff sleeps huggingface_hub would take (not taken)."""
    sleeps: list[float] = []
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr("huggingface_hub.utils._http.time.sleep", sleeps.append)
    monkeypatch.setattr("huggingface_hub.file_download.time.sleep", sleeps.append)
    return sleeps


@pytest.fixture
def fake_hub(
    monkeypatch: pytest.MonkeyPatch, online: list[float], model_bytes: bytes
) -> Iterator[FakeHub]:
    server = FakeHub(repos={REPO: FakeRepo({FILE: model_bytes})}).serve()
    monkeypatch.setenv("HF_ENDPOINT", server.url)
    yield server
    server.close()


def pull_within(ref: str, seconds: float = 20.0) -> BaseException | Path:
    """Run `pull(ref)` in a thread; what it returned or raised, or fail after `seconds`."""
    outcome: list[BaseException | Path] = []

    def run() -> None:
        try:
            outcome.append(pull(ref))
        except BaseException as exc:  # noqa: BLE001 - handed to the test
            outcome.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    assert outcome, f"pull {ref} did not end within {seconds} s"
    return outcome[0]


def test_an_html_page_instead_of_the_hub_is_one_line_with_exit_1(fake_hub: FakeHub) -> None:
    fake_hub.html_page = True
    result = CliRunner().invoke(cli, ["pull", REF])
    assert result.exit_code == 1, result.output
    assert result.stderr.startswith("llmbench: ") and result.stderr.count("\n") == 1
    assert f"{fake_hub.url} answered with an HTML page, not {REPO}'s file list" in result.stderr
    assert "check HF_ENDPOINT" in result.stderr and "Traceback" not in result.output


def test_a_silent_hub_times_out_at_hf_hub_etag_timeout(
    monkeypatch: pytest.MonkeyPatch, online: list[float]
) -> None:
    with socket.socket() as silent:  # accepts connections (the backlog), never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{silent.getsockname()[1]}")
        monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_ETAG_TIMEOUT", 0.5)
        error = pull_within(REF)
    assert isinstance(error, DownloadError), error
    assert "sent nothing for 0.5 s when asked for tester/Tiny-GGUF's files" in str(error)
    assert "raise HF_HUB_ETAG_TIMEOUT" in str(error)


def test_a_refused_connection_fails_at_once_without_retries(
    monkeypatch: pytest.MonkeyPatch, online: list[float]
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{closed_port}")
    error = pull_within(REF)
    assert isinstance(error, DownloadError), error
    assert "cannot reach the Hugging Face Hub" in str(error)
    assert "(connection refused)" in str(error)
    assert online == []  # no backoff: huggingface_hub's retries would sleep 1+2+4+8+8 s


def test_offline_mode_is_named_before_any_network_check(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_ENDPOINT", "http://hub.invalid")
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    result = CliRunner().invoke(cli, ["pull", REF])
    assert result.exit_code == 1
    assert result.stderr == (
        "llmbench: cannot download tester/Tiny-GGUF: HF_HUB_OFFLINE is set; unset it to download\n"
    )


def test_a_file_altered_in_transit_is_removed_and_said_so(
    fake_hub: FakeHub, model_bytes: bytes
) -> None:
    fake_hub.corrupt.add(f"{REPO}/{FILE}")
    error = pull_within(REF)
    assert isinstance(error, DownloadError), error
    message = str(error)
    assert f"{REPO}/{FILE}: the downloaded file's SHA-256 is" in message
    assert "the file was removed" in message and "\n" not in message
    repo_folder = hf_cache_dir() / "models--tester--Tiny-GGUF"
    assert [p for p in repo_folder.rglob("*") if p.is_file() or p.is_symlink()] == []
    assert cached_model_path(REF) is None
    fake_hub.corrupt.clear()
    path = pull(REF)
    assert path.read_bytes() == model_bytes
    assert fake_hub.requests_for(FILE)[-1].range is None  # nothing of the bad file was kept
    assert not list(repo_folder.rglob(f"*{PARTIAL_SUFFIX}"))
