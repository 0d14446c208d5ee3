"""`llmbench models` and `llmbench pull`: the table, --json, and one-line errors with exit code 1."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import huggingface_hub.constants
import pytest
from click.testing import CliRunner
from fake_hub import FakeHub, FakeRepo
from gguf_samples import write_sample_gguf

from tui.cli import cli
from tui.commands.models import TABLE_COLUMNS, format_params, format_size


@pytest.fixture
def demo_paths(smollm2_path: Path, gemma_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The session's demo files, so that Gemma is not assembled again in each test's cache dir."""
    paths = {"smollm2-135m": smollm2_path, "gemma3-270m": gemma_path}
    monkeypatch.setattr("engines.models.demo.demo_model_path", paths.__getitem__)


@pytest.fixture
def no_demo_models(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("engines.models.demo.importlib.util.find_spec", lambda _name: None)


def _rows(output: str) -> list[list[str]]:
    """Split the table on its header's column starts (so the test also checks the alignment)."""
    lines = output.splitlines()
    starts = [lines[0].index(column) for column in TABLE_COLUMNS]
    bounds = list(zip(starts, starts[1:] + [None], strict=True))
    return [[line[a:b].strip() for a, b in bounds] for line in lines]


def test_models_lists_both_demo_models(
    demo_paths: None, smollm2_path: Path, gemma_path: Path
) -> None:
    result = CliRunner().invoke(cli, ["models"])
    assert result.exit_code == 0, result.output
    header, *rows = _rows(result.output)
    assert header == list(TABLE_COLUMNS)
    assert rows == [
        [
            "demo",
            "SmolLM2-135M-Instruct Q4_1",
            "135M",
            "Q4_1",
            _size(smollm2_path),
            "8,192",
            "yes",
            "demo:smollm2-135m",
        ],
        [
            "demo",
            "Gemma 3 270M Q4_K_M",
            "268M",
            "Q4_K_M",
            _size(gemma_path),
            "32,768",
            "no",
            "demo:gemma3-270m",
        ],
    ]


def _size(path: Path) -> str:
    return format_size(path.stat().st_size)


def test_models_json(demo_paths: None, smollm2_path: Path) -> None:
    result = CliRunner().invoke(cli, ["models", "--json"])
    assert result.exit_code == 0, result.output
    listed = {item["ref"]: item for item in json.loads(result.output)}
    smollm2 = listed["demo:smollm2-135m"]
    assert smollm2["path"] == str(smollm2_path)
    assert smollm2["metadata"]["architecture"] == "llama"
    assert smollm2["metadata"]["n_kv_heads"] == 3
    assert listed["demo:gemma3-270m"]["metadata"]["has_chat_template"] is False


def test_real_command_on_this_machine(gemma_path: Path, tmp_path: Path) -> None:
    """The installed `llmbench models`, in a fresh process, finds both demo models."""
    cache = tmp_path / "llmbench-cache"
    (cache / "demo").mkdir(parents=True)
    (cache / "demo" / gemma_path.name).symlink_to(gemma_path)  # assembled once already: not again
    env = dict(os.environ, LLMBENCH_CACHE_DIR=str(cache))
    script = Path(sys.executable).parent / "llmbench"
    result = subprocess.run(
        [str(script), "models"], capture_output=True, text=True, env=env, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert "demo:smollm2-135m" in result.stdout and "demo:gemma3-270m" in result.stdout


def test_extra_dir_and_unreadable_model(tmp_path: Path, no_demo_models: None) -> None:
    model = write_sample_gguf(
        tmp_path / "Tiny-Q4_K_M.gguf", context_length=4096, chat_template=None
    )
    (tmp_path / "broken.gguf").write_bytes(b"not gguf at all")
    result = CliRunner().invoke(cli, ["models", "--dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    _header, *rows = _rows(result.stdout)
    assert rows == [
        ["folder", "Tiny Q4_K_M", "328", "Q4_K_M", _size(model), "4,096", "no", str(model)],
        ["folder", "broken", "?", "?", "?", "?", "?", str(tmp_path / "broken.gguf")],
    ]
    assert result.stderr.count("\n") == 1 and "not a GGUF file" in result.stderr


def test_no_models_found(no_demo_models: None) -> None:
    result = CliRunner().invoke(cli, ["models"])
    assert result.exit_code == 0
    assert "No GGUF models found" in result.output


def test_bad_config_exits_1_with_one_line(isolated_dirs: Path, no_demo_models: None) -> None:
    config = isolated_dirs / "config" / "llmbench" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text("model_dirs = [\n")
    result = CliRunner().invoke(cli, ["models"])
    assert result.exit_code == 1
    assert result.stderr.startswith("llmbench: ") and result.stderr.count("\n") == 1
    assert "not valid TOML" in result.stderr


@pytest.mark.parametrize(
    ("ref", "message"),
    [
        ("foo:bar", "unknown model reference scheme"),
        ("./local.gguf", "only hf: references can be pulled"),
        ("hf:tester/Tiny-GGUF:Q2_K", "tester/Tiny-GGUF has no Q2_K GGUF; it has: Q4_K_M"),
        ("hf:tester/missing:Q4_K_M", "no repo tester/missing"),
    ],
)
def test_pull_errors_exit_1_with_one_line(fake_hub_url: str, ref: str, message: str) -> None:
    result = CliRunner().invoke(cli, ["pull", ref])
    assert result.exit_code == 1, result.output
    assert result.stderr.startswith("llmbench: ") and result.stderr.count("\n") == 1
    assert message in result.stderr


def test_pull_prints_the_cached_path(fake_hub_url: str) -> None:
    result = CliRunner().invoke(cli, ["pull", "hf:tester/Tiny-GGUF:Q4_K_M"])
    assert result.exit_code == 0, result.output
    path = Path(result.stdout.strip())
    assert path.name == "Tiny-Q4_K_M.gguf" and path.is_file()
    assert "[1/1] Tiny-Q4_K_M.gguf: 100%" in result.stderr
    listed = CliRunner().invoke(cli, ["models", "--json"])
    assert "hf:tester/Tiny-GGUF/Tiny-Q4_K_M.gguf" in [m["ref"] for m in json.loads(listed.stdout)]


@pytest.fixture
def fake_hub_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_demo_models: None):  # type: ignore[no-untyped-def]
    data = write_sample_gguf(tmp_path / "q4.gguf").read_bytes()
    server = FakeHub(repos={"tester/Tiny-GGUF": FakeRepo({"Tiny-Q4_K_M.gguf": data})}).serve()
    monkeypatch.setenv("HF_ENDPOINT", server.url)
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", False)
    yield server.url
    server.close()


@pytest.mark.parametrize(
    ("n", "text"),
    [
        (None, "?"),
        (328, "328"),
        (134_515_008, "135M"),
        (3_212_749_888, "3.2B"),
        (70_553_706_496, "71B"),
    ],
)
def test_format_params(n: int | None, text: str) -> None:
    assert format_params(n) == text


def test_format_size() -> None:
    assert [format_size(n) for n in (512, 3712, 98_362_432, 4_920_734_080)] == [
        "512 B",
        "3.6 KiB",
        "93.8 MiB",
        "4.6 GiB",
    ]
