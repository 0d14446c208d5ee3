"""`llmbench models` lists what the servers in config.toml offer, beside the local files."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest
from click.testing import CliRunner
from openai_stub_server import OpenAIStub, llama_server_models

from engines.config import config_file
from tui.cli import cli


@pytest.fixture(autouse=True)
def no_demo_models(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only the servers are listed (no demo model headers to read)."""
    monkeypatch.setattr("engines.models.demo.importlib.util.find_spec", lambda _name: None)


def write_config(text: str) -> Path:
    path = config_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def closed_port() -> int:
    """A loopback port that nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_models_json_lists_a_configured_servers_models() -> None:
    with OpenAIStub(models=llama_server_models("tiny-chat.gguf")) as stub:
        write_config(f'servers = ["{stub.url}"]\n')
        result = CliRunner().invoke(cli, ["models", "--json"])
    assert result.exit_code == 0, result.output
    listed = json.loads(result.stdout)
    assert listed == [
        {
            "source": "server",
            "ref": f"openai:{stub.url}#tiny-chat.gguf",
            "name": "tiny-chat.gguf",
            "path": stub.url,
            "metadata": None,
            "error": None,
        }
    ]


def test_models_table_names_the_served_model_and_a_server_that_is_down() -> None:
    down = f"http://127.0.0.1:{closed_port()}/v1"
    with OpenAIStub(models=llama_server_models("tiny-chat.gguf")) as stub:
        write_config(f'servers = ["{stub.url}", "{down}"]\n')
        result = CliRunner().invoke(cli, ["models"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert any(f"openai:{stub.url}#tiny-chat.gguf" in line for line in lines[1:])
    assert any(line.startswith("server") and f"openai:{down}" in line for line in lines[1:])
    (complaint,) = result.stderr.splitlines()
    assert complaint.startswith(f"server {down}: ")


def test_a_bad_servers_entry_is_one_line_and_exit_1() -> None:
    path = write_config("servers = 42\n")
    result = CliRunner().invoke(cli, ["models"])
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines() == [
        f'llmbench: {path}: servers must be a list of URLs, e.g. servers = ["http://127.0.0.1:8080/v1"]'
    ]
    assert "Traceback" not in result.output


class SilentServer:
    """Accepts connections and never answers (a hung server)."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}/v1"

    def __enter__(self) -> SilentServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.sock.close()


def test_silent_servers_are_listed_all_at_once_within_list_timeout_s() -> None:
    import time

    with SilentServer() as first, SilentServer() as second, SilentServer() as third:
        write_config(
            f'servers = ["{first.url}", "{second.url}", "{third.url}"]\n'
            "[remote]\nlist_timeout_s = 1\n"
        )
        started = time.perf_counter()
        result = CliRunner().invoke(cli, ["models"])
        took = time.perf_counter() - started
    assert result.exit_code == 0, result.output
    assert took < 2.5, f"{took:.1f} s: the servers were asked one after another"
    complaints = result.stderr.splitlines()
    assert len(complaints) == 3
    assert all("list_timeout_s" in line and "read_timeout_s" not in line for line in complaints)
