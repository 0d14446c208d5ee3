"""Downloads through huggingface_hub, against a fake Hub on loopback (tests/unit/fake_hub.py)."""

from __future__ import annotations

import errno
import hashlib
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import huggingface_hub.constants
import pytest
from fake_hub import VALID_TOKEN, FakeHub, FakeRepo
from gguf_samples import write_sample_gguf

from engines.models import hub
from engines.models.gguf_info import read_gguf_metadata
from engines.models.hub import (
    DownloadError,
    DownloadProgress,
    cached_model_path,
    hf_cache_dir,
    pull,
)
from engines.models.references import ModelRefError, parse_model_ref
from engines.models.repo_files import select_model_files
from engines.models.resolve import resolve_model_ref
from engines.models.transfer import PARTIAL_SUFFIX

REPO = "tester/Tiny-GGUF"


@pytest.fixture(scope="module")
def sample_bytes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """A Q4_K_M and a Q8_0 sample model, and the three shards of a sharded Q6_K one."""
    folder = tmp_path_factory.mktemp("samples")
    files = {
        "Tiny-Q4_K_M.gguf": write_sample_gguf(
            folder / "q4.gguf", file_type=15, n_vocab=3000
        ).read_bytes(),
        "Tiny-Q8_0.gguf": write_sample_gguf(folder / "q8.gguf", file_type=7).read_bytes(),
    }
    write_sample_gguf(folder / "big.gguf", file_type=18, split_max_tensors=1)
    for index in (1, 2, 3):
        name = f"big-0000{index}-of-00003.gguf"
        files[f"Q6_K/Tiny-Q6_K-0000{index}-of-00003.gguf"] = (folder / name).read_bytes()
    return files


@pytest.fixture
def fake_hub(monkeypatch: pytest.MonkeyPatch, sample_bytes: dict[str, bytes]) -> Iterator[FakeHub]:
    """A running fake Hub with REPO (public), a gated repo and a repo without GGUF files."""
    server = FakeHub(
        repos={
            REPO: FakeRepo(dict(sample_bytes, **{"README.md": b"# tiny\n"})),
            "tester/Gated-GGUF": FakeRepo(
                {"Gated-Q4_K_M.gguf": sample_bytes["Tiny-Q4_K_M.gguf"]}, gated_status=401
            ),
            "tester/Forbidden-GGUF": FakeRepo(
                {"F-Q4_K_M.gguf": sample_bytes["Tiny-Q8_0.gguf"]}, gated_status=403
            ),
            "tester/safetensors-only": FakeRepo(
                {"model.safetensors": b"\0" * 16, "config.json": b"{}"}
            ),
        }
    ).serve()
    monkeypatch.setenv("HF_ENDPOINT", server.url)
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr("huggingface_hub.utils._http.time.sleep", lambda _s: None)
    monkeypatch.setattr("huggingface_hub.file_download.time.sleep", lambda _s: None)
    yield server
    server.close()


def test_full_download_lands_in_the_hf_cache(
    fake_hub: FakeHub, sample_bytes: dict[str, bytes]
) -> None:
    path = pull(f"hf:{REPO}:Q4_K_M")
    assert path.read_bytes() == sample_bytes["Tiny-Q4_K_M.gguf"]
    assert hf_cache_dir() in path.parents
    assert path.parent.parent.name == "snapshots"
    assert read_gguf_metadata(path).quantization == "Q4_K_M"
    gets = len(fake_hub.requests_for("Tiny-Q4_K_M.gguf"))
    assert pull(f"hf:{REPO}:q4_k_m") == path  # case-insensitive; cached: nothing fetched again
    assert len(fake_hub.requests_for("Tiny-Q4_K_M.gguf")) == gets == 1


def test_cached_model_resolves_without_the_network(fake_hub: FakeHub) -> None:
    with pytest.raises(
        ModelRefError, match=r"not downloaded yet; run `llmbench pull hf:tester/Tiny-GGUF:Q8_0`"
    ):
        resolve_model_ref(f"hf:{REPO}:Q8_0")
    downloaded = resolve_model_ref(f"hf:{REPO}:Q8_0", download=True)
    fake_hub.close()
    assert resolve_model_ref(f"hf:{REPO}:Q8_0") == downloaded
    assert resolve_model_ref(f"hf:{REPO}/Tiny-Q8_0.gguf") == downloaded


def test_interrupted_download_resumes_with_a_range_request(
    fake_hub: FakeHub, sample_bytes: dict[str, bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The server drops the first GET halfway; the download continues from the last whole chunk.

    huggingface_hub writes in chunks of DOWNLOAD_CHUNK_SIZE (10 MB); a small chunk makes our
    58 kB sample behave like a multi-gigabyte model cut after many chunks.
    """
    chunk = 4096
    monkeypatch.setattr(huggingface_hub.constants, "DOWNLOAD_CHUNK_SIZE", chunk)
    fake_hub.cut_first_get.add(f"{REPO}/Tiny-Q4_K_M.gguf")
    path = pull(f"hf:{REPO}:Q4_K_M")
    assert path.read_bytes() == sample_bytes["Tiny-Q4_K_M.gguf"]
    gets = fake_hub.requests_for("Tiny-Q4_K_M.gguf")
    half = len(sample_bytes["Tiny-Q4_K_M.gguf"]) // 2
    assert [g.range for g in gets] == [None, f"bytes={half // chunk * chunk}-"]


def test_sharded_model_downloads_every_shard(fake_hub: FakeHub) -> None:
    path = pull(f"hf:{REPO}:Q6_K")
    assert path.name == "Tiny-Q6_K-00001-of-00003.gguf"
    meta = read_gguf_metadata(path)
    assert len(meta.shard_paths) == 3 and meta.quantization == "Q6_K"
    assert all(Path(p).is_file() for p in meta.shard_paths)


def test_progress_reports_each_file_to_its_total(
    fake_hub: FakeHub, sample_bytes: dict[str, bytes]
) -> None:
    seen: list[DownloadProgress] = []
    pull(f"hf:{REPO}:Q6_K", progress=seen.append)
    finals = {p.filename: p for p in seen if p.total and p.downloaded == p.total}
    assert set(finals) == {f"Q6_K/Tiny-Q6_K-0000{i}-of-00003.gguf" for i in (1, 2, 3)}
    assert [finals[name].file_index for name in sorted(finals)] == [1, 2, 3]
    assert all(p.file_count == 3 for p in seen)
    assert all(finals[name].total == len(sample_bytes[name]) for name in finals)


def test_quant_the_repo_lacks_lists_those_it_has(fake_hub: FakeHub) -> None:
    with pytest.raises(ModelRefError) as error:
        pull(f"hf:{REPO}:Q5_K_M")
    assert str(error.value) == f"{REPO} has no Q5_K_M GGUF; it has: Q4_K_M, Q6_K, Q8_0"


def test_repo_without_gguf_files(fake_hub: FakeHub) -> None:
    with pytest.raises(ModelRefError, match="tester/safetensors-only has no GGUF files"):
        pull("hf:tester/safetensors-only")


def test_missing_file_named_in_the_ref(fake_hub: FakeHub) -> None:
    with pytest.raises(ModelRefError, match=f"{REPO} has no file nope.gguf; its GGUF files: Q6_K/"):
        pull(f"hf:{REPO}/nope.gguf")


def test_file_gone_between_listing_and_download_is_a_404(fake_hub: FakeHub) -> None:
    fake_hub.repos[REPO].unavailable.add("Tiny-Q8_0.gguf")
    with pytest.raises(DownloadError, match=f"{REPO} has no file Tiny-Q8_0.gguf"):
        pull(f"hf:{REPO}:Q8_0")


def test_missing_repo(fake_hub: FakeHub) -> None:
    with pytest.raises(DownloadError, match=r"no repo tester/nothing-here on http://127\.0\.0\.1"):
        pull("hf:tester/nothing-here:Q4_K_M")


@pytest.mark.parametrize("repo", ["tester/Gated-GGUF", "tester/Forbidden-GGUF"])
def test_gated_repo_without_access_says_what_to_do(fake_hub: FakeHub, repo: str) -> None:
    with pytest.raises(DownloadError) as error:
        pull(f"hf:{repo}:Q4_K_M")
    message = str(error.value)
    assert "\n" not in message and repo in message
    assert "request access on the model page and run `hf auth login` or set HF_TOKEN" in message


def test_gated_repo_with_a_token_downloads(
    fake_hub: FakeHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_TOKEN", VALID_TOKEN)
    path = pull("hf:tester/Gated-GGUF:Q4_K_M")
    assert path.is_file()
    assert all(r.authorized for r in fake_hub.requests_for("Gated-Q4_K_M.gguf"))


def test_no_network(fake_hub: FakeHub, monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as probe:  # a port with nothing listening
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{closed_port}")
    with pytest.raises(
        DownloadError, match="cannot reach the Hugging Face Hub .* check your network connection"
    ):
        pull(f"hf:{REPO}:Q4_K_M")


def test_offline_mode(fake_hub: FakeHub, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    with pytest.raises(DownloadError, match="HF_HUB_OFFLINE is set; unset it to download"):
        pull(f"hf:{REPO}:Q4_K_M")


def test_pull_stopped_midway_continues_on_the_next_run(
    fake_hub: FakeHub, sample_bytes: dict[str, bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-C during a pull keeps the partial file; the next pull asks only for the rest."""
    monkeypatch.setattr(huggingface_hub.constants, "DOWNLOAD_CHUNK_SIZE", 4096)
    expected = sample_bytes["Tiny-Q4_K_M.gguf"]

    def stop_after_three_chunks(update: DownloadProgress) -> None:
        if update.downloaded >= 3 * 4096:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        pull(f"hf:{REPO}:Q4_K_M", progress=stop_after_three_chunks)
    [partial] = list(hf_cache_dir().rglob(f"*{PARTIAL_SUFFIX}"))
    kept = partial.stat().st_size
    assert 0 < kept < len(expected)
    seen: list[DownloadProgress] = []
    path = pull(f"hf:{REPO}:Q4_K_M", progress=seen.append)
    assert path.read_bytes() == expected
    assert fake_hub.requests_for("Tiny-Q4_K_M.gguf")[-1].range == f"bytes={kept}-"
    assert seen[0].downloaded == kept and seen[-1].downloaded == len(expected)
    assert not partial.exists()


def test_disk_full_during_download_then_resume(
    fake_hub: FakeHub, sample_bytes: dict[str, bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The disk fills up midway: a clear message; after freeing space, the pull continues."""
    import huggingface_hub.file_download as file_download

    real_http_get = file_download.http_get

    class FillingDisk:
        """A file that takes 5000 bytes, then fails as a full disk does."""

        def __init__(self, stream: BinaryIO) -> None:
            self.stream = stream

        def write(self, data: bytes) -> int:
            room = 5000 - self.stream.tell()
            if len(data) > room:
                self.stream.write(data[:room])
                raise OSError(errno.ENOSPC, "No space left on device")
            return self.stream.write(data)

        def __getattr__(self, name: str) -> object:
            return getattr(self.stream, name)

    monkeypatch.setattr(
        file_download, "http_get", lambda url, f, **kw: real_http_get(url, FillingDisk(f), **kw)
    )
    with pytest.raises(
        DownloadError, match="disk full while downloading .* point HF_HUB_CACHE at a bigger disk"
    ):
        pull(f"hf:{REPO}:Q4_K_M")
    monkeypatch.setattr(file_download, "http_get", real_http_get)
    assert pull(f"hf:{REPO}:Q4_K_M").read_bytes() == sample_bytes["Tiny-Q4_K_M.gguf"]
    assert fake_hub.requests_for("Tiny-Q4_K_M.gguf")[-1].range == "bytes=5000-"


def test_not_enough_space_is_caught_before_downloading(
    fake_hub: FakeHub, sample_bytes: dict[str, bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    size = len(sample_bytes["Tiny-Q4_K_M.gguf"])
    free = {"bytes": size - 1}
    monkeypatch.setattr(
        hub.shutil, "disk_usage", lambda _p: type("Usage", (), {"free": free["bytes"]})()
    )
    with pytest.raises(DownloadError, match="not enough disk space for .* it needs"):
        pull(f"hf:{REPO}:Q4_K_M")
    assert fake_hub.requests_for("Tiny-Q4_K_M.gguf", method="HEAD") == []
    free["bytes"] = size
    path = pull(f"hf:{REPO}:Q4_K_M")
    free["bytes"] = 0  # already downloaded: nothing more is needed
    assert pull(f"hf:{REPO}:Q4_K_M") == path


def test_partial_file_counts_toward_the_space_needed(
    fake_hub: FakeHub, sample_bytes: dict[str, bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    data = sample_bytes["Tiny-Q4_K_M.gguf"]
    blobs = hf_cache_dir() / "models--tester--Tiny-GGUF" / "blobs"
    blobs.mkdir(parents=True)
    (blobs / f"{hashlib.sha256(data).hexdigest()}{PARTIAL_SUFFIX}").write_bytes(data[:1000])
    monkeypatch.setattr(
        hub.shutil, "disk_usage", lambda _p: type("Usage", (), {"free": len(data) - 1000})()
    )
    assert pull(f"hf:{REPO}:Q4_K_M").read_bytes() == data
    assert fake_hub.requests_for("Tiny-Q4_K_M.gguf")[-1].range == "bytes=1000-"


def test_only_hf_refs_can_be_pulled(tmp_path: Path) -> None:
    with pytest.raises(ModelRefError, match="only hf: references can be pulled"):
        pull(str(tmp_path / "m.gguf"))


@pytest.mark.parametrize(
    ("ref", "files", "chosen"),
    [
        (
            "hf:o/r",
            ["a-Q8_0.gguf", "a-Q4_K_M.gguf", "README.md"],
            ["a-Q4_K_M.gguf"],
        ),  # default quant
        ("hf:o/r", ["only-Q5_K_S.gguf", "mmproj-f16.gguf"], ["only-Q5_K_S.gguf"]),  # the only model
        ("hf:o/r:q8_0", ["a-Q8_0.gguf", "a-Q4_K_M.gguf"], ["a-Q8_0.gguf"]),
        ("hf:o/r:Q4_K", ["a-Q4_K_M.gguf", "a-Q4_K.gguf"], ["a-Q4_K.gguf"]),  # Q4_K is not Q4_K_M
        ("hf:o/r:Q4_0", ["a-Q4_0.gguf", "a-IQ4_0.gguf"], ["a-Q4_0.gguf"]),
        (
            "hf:o/r:Q8_0",
            ["Q8_0/a-Q8_0-00002-of-00002.gguf", "Q8_0/a-Q8_0-00001-of-00002.gguf"],
            ["Q8_0/a-Q8_0-00001-of-00002.gguf", "Q8_0/a-Q8_0-00002-of-00002.gguf"],
        ),
        (
            "hf:o/r/Q8_0/a-Q8_0-00002-of-00002.gguf",  # naming any shard fetches them all
            ["Q8_0/a-Q8_0-00001-of-00002.gguf", "Q8_0/a-Q8_0-00002-of-00002.gguf"],
            ["Q8_0/a-Q8_0-00001-of-00002.gguf", "Q8_0/a-Q8_0-00002-of-00002.gguf"],
        ),
    ],
)
def test_select_model_files(ref: str, files: list[str], chosen: list[str]) -> None:
    assert select_model_files(parse_model_ref(ref), files) == chosen


@pytest.mark.parametrize(
    ("ref", "files", "message"),
    [
        ("hf:o/r", ["a-Q8_0.gguf", "a-F16.gguf"], "o/r has several GGUF models; name a quant: hf:o/r:QUANT (it has Q8_0, F16)"),
        ("hf:o/r:Q4_K_M", ["a-Q4_K_M.gguf", "b-Q4_K_M.gguf"], "several files of o/r match Q4_K_M: a-Q4_K_M.gguf, b-Q4_K_M.gguf"),
        ("hf:o/r:Q8_0", ["a-Q8_0-00001-of-00003.gguf", "a-Q8_0-00003-of-00003.gguf"], "o/r lacks shard a-Q8_0-00002-of-00003.gguf"),
        ("hf:o/r", ["mmproj-model-f16.gguf"], "o/r has no GGUF files"),
    ],
)  # fmt: skip
def test_select_model_files_errors(ref: str, files: list[str], message: str) -> None:
    with pytest.raises(ModelRefError) as error:
        select_model_files(parse_model_ref(ref), files)
    assert message in str(error.value)


def test_partly_cached_sharded_model_is_not_cached(tmp_path: Path) -> None:
    snapshot = hf_cache_dir() / "models--o--r" / "snapshots" / ("c" * 40)
    write_sample_gguf(
        snapshot / "m-Q8_0.gguf", split_max_tensors=1
    )  # writes m-Q8_0-0000N-of-00003.gguf
    assert cached_model_path("hf:o/r:Q8_0") == snapshot / "m-Q8_0-00001-of-00003.gguf"
    (snapshot / "m-Q8_0-00003-of-00003.gguf").unlink()
    assert cached_model_path("hf:o/r:Q8_0") is None
    assert cached_model_path("demo:smollm2-135m") is None
