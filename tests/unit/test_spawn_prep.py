"""A worker starts whatever `sys.stderr` is: Textual replaces it with an object whose fileno() is -1.

Python's resource tracker starts with the first spawned process and keeps
`sys.stderr.fileno()` open for itself; -1 made that start fail with "bad value(s) in
fds_to_keep". The tracker runs once per parent, so the real case runs in a fresh
interpreter: the first worker of that process is started while stderr is Textual-like.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from gguf_samples import write_sample_gguf

from engines.local.spawn_prep import ensure_resource_tracker, has_usable_fileno

TESTS_UNIT = Path(__file__).parent
ROOT = TESTS_UNIT.parents[1]


class TextualLikeCapture:
    """What `sys.stderr` is while a Textual app runs (textual.app._PrintCapture)."""

    def __init__(self) -> None:
        self.written: list[str] = []

    def write(self, text: str) -> int:
        self.written.append(text)
        return len(text)

    def flush(self) -> None:
        pass

    def fileno(self) -> int:
        return -1


FIRST_WORKER_UNDER_A_CAPTURED_STDERR = """
import sys
sys.path.insert(0, {tests_unit!r})
from engines.protocol import LoadFailed, ModelLoaded
from engines.types import ModelSettings
from engines.local.handle import WorkerModelHandle


class TextualLikeCapture:
    def write(self, text):
        return len(text)

    def flush(self):
        pass

    def fileno(self):
        return -1


if __name__ == "__main__":
    out = sys.stdout
    sys.stderr = sys.stdout = TextualLikeCapture()
    handle = WorkerModelHandle("worker_stub_engine:StubEngine")
    try:
        handle.load(ModelSettings(path={model!r}, n_ctx=256, label="stub"))
        events = []
        while not any(isinstance(e, (ModelLoaded, LoadFailed)) for e in events):
            batch = handle.next_events(20.0)
            if not batch:
                break
            events += batch
        out.write("events: " + ", ".join(type(e).__name__ for e in events) + "\\n")
    except Exception as exc:
        out.write(f"failed: {{type(exc).__name__}}: {{exc}}\\n")
    finally:
        handle.close()
"""


def test_the_first_worker_starts_while_stderr_has_no_real_descriptor(tmp_path: Path) -> None:
    model = write_sample_gguf(tmp_path / "tiny-model.gguf")
    script = tmp_path / "first_worker.py"
    script.write_text(
        textwrap.dedent(
            FIRST_WORKER_UNDER_A_CAPTURED_STDERR.format(
                tests_unit=str(TESTS_UNIT), model=str(model)
            )
        ),
        encoding="utf-8",
    )
    result = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=60, cwd=ROOT
    )
    assert "events:" in result.stdout, result.stdout + result.stderr
    assert "ModelLoaded" in result.stdout, result.stdout + result.stderr


def test_while_the_tracker_starts_stderr_has_no_descriptor_and_writes_reach_the_original(
    monkeypatch,
) -> None:
    from multiprocessing import resource_tracker

    seen: dict[str, str] = {}

    def ensure_running() -> None:
        print("a tracker warning", file=sys.stderr)
        try:
            seen["fileno"] = str(sys.stderr.fileno())
        except Exception as exc:  # noqa: BLE001 - the tracker's own code catches any
            seen["fileno"] = type(exc).__name__

    monkeypatch.setattr(resource_tracker, "ensure_running", ensure_running)
    capture = TextualLikeCapture()
    monkeypatch.setattr(sys, "stderr", capture)
    ensure_resource_tracker()
    assert seen["fileno"] == "UnsupportedOperation"
    assert "a tracker warning" in "".join(capture.written)
    assert sys.stderr is capture  # given back


def test_a_usable_stderr_is_left_alone(monkeypatch, tmp_path: Path) -> None:
    from multiprocessing import resource_tracker

    seen: list[object] = []
    monkeypatch.setattr(resource_tracker, "ensure_running", lambda: seen.append(sys.stderr))
    with (tmp_path / "err.txt").open("w", encoding="utf-8") as stream:
        monkeypatch.setattr(sys, "stderr", stream)
        ensure_resource_tracker()
        assert seen == [stream]
    assert not has_usable_fileno(TextualLikeCapture())


def test_a_closed_descriptor_is_not_usable(tmp_path: Path) -> None:
    stream = (tmp_path / "log.txt").open("w", encoding="utf-8")
    assert has_usable_fileno(stream)
    stream.close()
    assert not has_usable_fileno(stream)
