"""SHA-256 on demand, cached by path, size and modification time."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest

from engines.models import file_hash
from engines.models.file_hash import file_sha256, hash_cache_path


def test_digest_is_right_and_cached(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    model = tmp_path / "m.gguf"
    model.write_bytes(b"weights" * 1000)
    expected = hashlib.sha256(model.read_bytes()).hexdigest()
    hashed: list[Path] = []
    real_hash = file_hash._hash_file
    monkeypatch.setattr(file_hash, "_hash_file", lambda p: hashed.append(p) or real_hash(p))
    assert file_sha256(model) == expected
    assert file_sha256(model) == expected
    assert hashed == [model]
    cache = json.loads(hash_cache_path().read_text())
    assert list(cache.values()) == [expected]


def test_changed_file_is_hashed_again_and_old_entry_dropped(tmp_path: Path) -> None:
    model = tmp_path / "m.gguf"
    model.write_bytes(b"one")
    first = file_sha256(model)
    model.write_bytes(b"two!")
    os.utime(model, ns=(1, 1))  # a different size and mtime
    second = file_sha256(model)
    assert second == hashlib.sha256(b"two!").hexdigest() != first
    assert list(json.loads(hash_cache_path().read_text()).values()) == [second]


def test_corrupt_cache_is_ignored_and_rewritten(tmp_path: Path) -> None:
    hash_cache_path().parent.mkdir(parents=True, exist_ok=True)
    hash_cache_path().write_text("{broken")
    model = tmp_path / "m.gguf"
    model.write_bytes(b"x")
    assert file_sha256(model) == hashlib.sha256(b"x").hexdigest()
    assert json.loads(hash_cache_path().read_text())  # valid JSON again
    assert not list(hash_cache_path().parent.glob(".sha256-*"))  # no temporary files left


def test_missing_file_raises(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        file_sha256(tmp_path / "nope.gguf")


def test_relative_and_absolute_paths_share_an_entry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "m.gguf").write_bytes(b"abc")
    monkeypatch.chdir(tmp_path)
    assert file_sha256("m.gguf") == file_sha256(tmp_path / "m.gguf")
    assert len(json.loads(hash_cache_path().read_text())) == 1
