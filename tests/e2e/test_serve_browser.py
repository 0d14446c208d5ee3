"""`llmbench serve` end to end: the real command, a real headless Chromium, the demo models.

The page loads, Ctrl+R runs the bundled prompt on both demo models, both answers reach
the browser, and a screenshot is saved to .test-artifacts/serve-workbench.png for a
person to look at. Chromium is Debian's `chromium` package: installed here when missing
(as root, with apt-get), else the test skips and says why.

The terminal in the page is drawn on a canvas, so the test reads what the browser
received instead: every websocket frame the page gets, its escape sequences removed. The
answers themselves come from the history the served workbench appends to.
"""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from cdp_browser import Browser, find_chromium, install_chromium

from profiles.history import history_path, read_history

pytestmark = pytest.mark.real_model

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / ".test-artifacts"

CAPTURE_FRAMES = r"""
window.__received = [];
const PageSocket = window.WebSocket;
window.WebSocket = function (...args) {
  const socket = new PageSocket(...args);
  const decoder = new TextDecoder();
  socket.addEventListener("message", (event) => {
    const data = event.data;
    window.__received.push(typeof data === "string" ? data : decoder.decode(data));
  });
  return socket;
};
window.WebSocket.prototype = PageSocket.prototype;
Object.assign(window.WebSocket, PageSocket);
"""
"""Keeps a copy of every websocket frame the page receives (before textual-serve's code runs)."""

RECEIVED_TEXT = r"""window.__received.join("").replace(/\x1b\[[0-9;?<>=]*[ -\/]*[@-~]/g, "")"""
"""What the page received, without CSI escape sequences."""


def _chromium() -> str:
    binary = find_chromium()
    if binary is None:
        reason = install_chromium()
        binary = find_chromium()
        if binary is None:
            pytest.skip(f"no headless Chromium: {reason or 'chromium not found after install'}")
    return binary


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_for_port(port: int, server: subprocess.Popen, timeout_s: float = 30) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise AssertionError(f"llmbench serve exited: {server.stderr.read()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise AssertionError("llmbench serve did not listen")


def _wait_for_results(count: int, timeout_s: float) -> list:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if history_path().is_file():
            results, _ = read_history()
            if len(results) >= count:
                return results
        time.sleep(0.5)
    raise AssertionError(f"fewer than {count} results in the history after {timeout_s:.0f} s")


def _first_words(text: str, count: int = 3) -> str:
    return " ".join(re.findall(r"\S+", text)[:count])


def test_the_workbench_runs_in_a_browser():
    browser_binary = _chromium()
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "tui.cli", "serve", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO,
    )
    browser = None
    try:
        _wait_for_port(port, server)
        browser = Browser(browser_binary)
        browser.send("Page.addScriptToEvaluateOnNewDocument", source=CAPTURE_FRAMES)
        browser.open(f"http://127.0.0.1:{port}")
        browser.wait_for(
            "document.body.classList.contains('-first-byte')", 60, "the workbench to draw"
        )
        ready = f"(({RECEIVED_TEXT}).match(/ready: ctrl\\+r/g) || []).length >= 2"
        browser.wait_for(ready, 240, "both demo models to load")
        browser.send("Runtime.evaluate", expression="document.querySelector('textarea')?.focus()")
        browser.press("r", "KeyR", 82, modifiers=2)
        results = _wait_for_results(2, 300)
        assert {r.model_ref for r in results} == {"demo:smollm2-135m", "demo:gemma3-270m"}
        for result in results:
            assert result.text.strip(), f"{result.model_ref} gave an empty answer"
            words = _first_words(result.text)
            shown = f"({RECEIVED_TEXT}).replace(/\\s+/g, ' ').includes({words!r})"
            browser.wait_for(shown, 30, f"{result.model_ref}'s answer ({words!r}) in the page")
        time.sleep(1)
        shot = browser.screenshot(ARTIFACTS / "serve-workbench.png")
        assert shot.stat().st_size > 10_000
    finally:
        if browser is not None:
            browser.close()
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()


def test_serve_warns_when_listening_beyond_this_machine():
    """--host elsewhere prints the no-authentication warning before serving."""
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "tui.cli", "serve", "--host", "0.0.0.0", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO,
    )
    try:
        _wait_for_port(port, server)
    finally:
        server.terminate()
        _, stderr = server.communicate(timeout=20)
    assert "no authentication" in stderr
