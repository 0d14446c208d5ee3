"""A real headless Chromium driven through the Chrome DevTools Protocol, for end-to-end tests.

No WebDriver or Playwright: Chromium's own `--remote-debugging-port`, spoken over a
websocket with aiohttp (which textual-serve already brings). Enough for a test: open a
page, run JavaScript, type keys, take a screenshot.

`find_chromium()` finds Debian's `chromium` (or Chrome); `install_chromium()` installs it
with apt-get when running as root, and returns why not otherwise.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def find_chromium() -> str | None:
    """The path of a Chromium/Chrome binary on PATH, or None."""
    for name in BROWSERS:
        path = shutil.which(name)
        if path:
            return path
    return None


def install_chromium(timeout_s: float = 600) -> str | None:
    """Install Debian's chromium with apt-get; None on success, else why it could not be."""
    if shutil.which("apt-get") is None:
        return "no apt-get on this machine to install chromium"
    if os.geteuid() != 0:
        return "chromium is not installed and installing it needs root (apt-get install chromium)"
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (
        ["apt-get", "update", "-qq"],
        ["apt-get", "install", "-y", "-qq", "chromium"],
    ):
        try:
            done = subprocess.run(
                command, capture_output=True, text=True, timeout=timeout_s, env=env
            )
        except subprocess.TimeoutExpired:
            return f"{' '.join(command)} took longer than {timeout_s:.0f} s (no network?)"
        if done.returncode != 0:
            last = (done.stderr.strip().splitlines() or ["failed"])[-1]
            return f"{' '.join(command)} failed: {last}"
    return None


class Browser:
    """One headless Chromium with one page, driven synchronously (each call runs the loop)."""

    def __init__(self, binary: str, width: int = 1400, height: int = 900) -> None:
        self._profile = tempfile.TemporaryDirectory(
            prefix="llmbench-chromium-", ignore_cleanup_errors=True
        )
        self._process = subprocess.Popen(
            [
                binary,
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--no-default-browser-check",
                "--remote-debugging-port=0",
                f"--user-data-dir={self._profile.name}",
                f"--window-size={width},{height}",
                "about:blank",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # its helper processes too end with it (`close`)
        )
        self._loop = asyncio.new_event_loop()
        self._session: aiohttp.ClientSession | None = None
        self._socket: Any = None
        self._next_id = 0
        try:
            self._loop.run_until_complete(self._connect(self._debugging_port()))
        except BaseException:
            self.close()
            raise

    def _debugging_port(self, timeout_s: float = 30) -> int:
        marker = Path(self._profile.name) / "DevToolsActivePort"
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"chromium exited with status {self._process.returncode}")
            if marker.is_file():
                lines = marker.read_text().splitlines()
                if lines and lines[0].strip().isdigit():
                    return int(lines[0])
            time.sleep(0.1)
        raise RuntimeError("chromium did not open its debugging port")

    async def _connect(self, port: int) -> None:
        self._session = aiohttp.ClientSession()
        async with self._session.get(f"http://127.0.0.1:{port}/json/list") as response:
            targets = await response.json(content_type=None)
        page = next(target for target in targets if target.get("type") == "page")
        self._socket = await self._session.ws_connect(page["webSocketDebuggerUrl"], max_msg_size=0)

    async def _send(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        self._next_id += 1
        message_id = self._next_id
        await self._socket.send_str(
            json.dumps({"id": message_id, "method": method, "params": params})
        )
        while True:
            message = json.loads((await self._socket.receive()).data)
            if message.get("id") == message_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})

    def send(self, method: str, **params: Any) -> dict[str, Any]:
        """One DevTools command and its result."""
        return self._loop.run_until_complete(asyncio.wait_for(self._send(method, params), 60))

    def open(self, url: str) -> None:
        self.send("Page.enable")
        self.send("Page.navigate", url=url)

    def evaluate(self, expression: str) -> Any:
        """The value of a JavaScript expression in the page."""
        result = self.send("Runtime.evaluate", expression=expression, returnByValue=True)
        return result.get("result", {}).get("value")

    def wait_for(self, expression: str, timeout_s: float, what: str) -> Any:
        """Poll a JavaScript expression until it is truthy; its value."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            value = self.evaluate(expression)
            if value:
                return value
            time.sleep(0.25)
        raise AssertionError(f"timed out after {timeout_s:.0f} s waiting for {what}")

    def press(self, key: str, code: str, key_code: int, modifiers: int = 0) -> None:
        """A key press (down and up); modifiers: 2 = Ctrl."""
        for kind in ("keyDown", "keyUp"):
            self.send(
                "Input.dispatchKeyEvent",
                type=kind,
                key=key,
                code=code,
                windowsVirtualKeyCode=key_code,
                modifiers=modifiers,
            )

    def screenshot(self, path: Path) -> Path:
        data = self.send("Page.captureScreenshot", format="png")["data"]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(data))
        return path

    def close(self) -> None:
        async def shutdown() -> None:
            if self._socket is not None:
                await self._socket.close()
            if self._session is not None:
                await self._session.close()

        try:
            self._loop.run_until_complete(shutdown())
        finally:
            self._loop.close()
            self._end_process_group()
            self._profile.cleanup()

    def _end_process_group(self) -> None:
        """End Chromium and every helper it started (they write into the profile folder
        until they are gone, so the folder is removed only after)."""
        for signum in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.killpg(self._process.pid, signum)
            except ProcessLookupError:
                break
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                continue
            time.sleep(0.5)  # helpers leave a moment after the browser itself
