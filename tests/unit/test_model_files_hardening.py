"""Model files that are not what their name says: each is listed with what is wrong, never read
past what is safe (a FIFO never blocks, a device is never read)."""

from __future__ import annotations

import json
import os
import struct
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner
from gguf_samples import write_sample_gguf

from engines.models.gguf_info import GGUFError, read_gguf_metadata
from tui.cli import cli


@pytest.fixture
def no_demo_models(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("engines.models.demo.importlib.util.find_spec", lambda _name: None)


def test_gguf_v1_is_refused_in_one_line(tmp_path: Path) -> None:
    data = bytearray(write_sample_gguf(tmp_path / "new.gguf").read_bytes())
    data[4:8] = struct.pack("<I", 1)
    old = tmp_path / "old.gguf"
    old.write_bytes(bytes(data))
    with pytest.raises(GGUFError) as caught:
        read_gguf_metadata(old)
    assert str(caught.value) == (
        f"{old}: GGUF version 1 is no longer supported (llama.cpp refuses it too); "
        "convert the model again with a current llama.cpp"
    )


def test_a_file_cut_inside_its_tensor_data_is_truncated(tmp_path: Path) -> None:
    from engines.models.gguf_info import truncation_problem

    whole = write_sample_gguf(tmp_path / "whole.gguf")
    data = whole.read_bytes()
    cut = tmp_path / "cut.gguf"
    cut.write_bytes(data[:-100])
    assert truncation_problem(read_gguf_metadata(whole)) is None, "a whole file is fine"
    assert truncation_problem(read_gguf_metadata(cut)) == (
        f"{cut}: truncated GGUF file (3,612 bytes; its tensors need 3,712): "
        "an interrupted download or copy?"
    )


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_models_lists_every_odd_file_with_what_is_wrong(
    tmp_path: Path, no_demo_models: None
) -> None:
    whole = write_sample_gguf(tmp_path / "good.gguf")
    (tmp_path / "truncated.gguf").write_bytes(whole.read_bytes()[:-100])
    (tmp_path / "dir.gguf").mkdir()
    os.mkfifo(tmp_path / "fifo.gguf")
    if os.path.exists("/dev/zero"):
        (tmp_path / "zero.gguf").symlink_to("/dev/zero")
    outcome: list = []

    def list_models() -> None:
        outcome.append(CliRunner().invoke(cli, ["models", "--dir", str(tmp_path), "--json"]))

    lister = threading.Thread(target=list_models, daemon=True)
    lister.start()
    lister.join(timeout=60)
    assert outcome, "`llmbench models` blocked on a FIFO or a device"
    result = outcome[0]
    assert result.exit_code == 0, result.output
    errors = {Path(m["path"]).name: m["error"] for m in json.loads(result.stdout)}
    assert errors["good.gguf"] is None
    assert "truncated GGUF file" in errors["truncated.gguf"]
    assert errors["dir.gguf"].endswith("dir.gguf: is a directory, not a GGUF file")
    assert errors["fifo.gguf"].endswith("fifo.gguf: is a named pipe (FIFO), not a GGUF file")
    if os.path.exists("/dev/zero"):
        assert errors["zero.gguf"].endswith("zero.gguf: is a character device, not a GGUF file")


def test_the_tensor_size_table_matches_the_gguf_package() -> None:
    from gguf.constants import GGML_QUANT_SIZES

    from engines.models.gguf_header import _TYPE_SIZES

    theirs = {int(kind): sizes for kind, sizes in GGML_QUANT_SIZES.items()}
    assert {kind: theirs[kind] for kind in _TYPE_SIZES} == _TYPE_SIZES
