"""Drive headless Chromium over the DevTools protocol (``--remote-debugging-pipe``), with no extra package.

Used by ``tests/test_html_report.py`` to open ``report.html``, run checks in the page and
catch JavaScript errors, and to take the committed screenshot::

    python tests/headless_chromium.py reports/sample/report.html reports/sample/report_html.png

Chromium reads protocol messages from file descriptor 3 and writes to 4, each a JSON
object ended by a NUL byte. It starts with the flags this machine's closed network needs
(no first-run, background networking, component updates or sync; a fresh profile).
"""

from __future__ import annotations

import base64
import json
import os
import select
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--disable-extensions", "--disable-default-apps",
         "--mute-audio", "--hide-scrollbars", "--remote-debugging-pipe")


def find_chromium() -> str | None:
    """The Chromium binary (``$CHROMIUM``, ``chromium``, ``chromium-browser``, ``google-chrome``) that
    starts and prints its version, or None (a stub such as a snap shim in a container does not count)."""
    for name in (os.environ.get("CHROMIUM", ""), "chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name) if name else None
        if found and _starts(found):
            return found
    return None


def _starts(binary: str) -> bool:
    try:
        done = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return False
    return done.returncode == 0 and "chrom" in done.stdout.lower()


class BrowserError(RuntimeError):
    """Chromium did not start, answer in time, or reported a protocol error."""


class Chromium:
    """One headless Chromium with one page; use as a context manager.

    ``errors`` collects every uncaught exception, ``console.error``/``console.assert`` and
    browser log entry of level ``error`` (a Content-Security-Policy violation is one).
    """

    def __init__(self, binary: str | None = None, *, width: int = 1280, height: int = 900, timeout: float = 20.0) -> None:
        self.binary = binary or find_chromium()
        if not self.binary:
            raise BrowserError("no Chromium found (apt-get install chromium)")
        self.width, self.height, self.timeout = width, height, timeout
        self.errors: list[str] = []
        self._events: list[dict[str, Any]] = []
        self._buffer = b""
        self._next_id = 0
        self._session = ""

    def __enter__(self) -> Chromium:
        self._profile = tempfile.mkdtemp(prefix="stance-chromium-")
        to_chrome_r, to_chrome_w = os.pipe()
        from_chrome_r, from_chrome_w = os.pipe()
        # Chromium expects the pipe on fds 3 (it reads) and 4 (it writes): move our ends above them first.
        high_r, high_w = (os.dup(fd) for fd in (to_chrome_r, from_chrome_w))
        while min(high_r, high_w) <= 4:
            high_r, high_w = os.dup(high_r), os.dup(high_w)

        def child_fds() -> None:
            os.dup2(high_r, 3)
            os.dup2(high_w, 4)

        self._log = tempfile.TemporaryFile()
        self.process = subprocess.Popen(
            [self.binary, *FLAGS, f"--user-data-dir={self._profile}", f"--window-size={self.width},{self.height}", "about:blank"],
            stdin=subprocess.DEVNULL, stdout=self._log, stderr=self._log, preexec_fn=child_fds, close_fds=False)
        for fd in {to_chrome_r, from_chrome_w, high_r, high_w}:
            os.close(fd)
        self._write, self._read = to_chrome_w, from_chrome_r
        try:
            targets = self.call("Target.getTargets")["targetInfos"]
            page = next(t["targetId"] for t in targets if t["type"] == "page")
            self._session = self.call("Target.attachToTarget", targetId=page, flatten=True)["sessionId"]
            for domain in ("Page", "Runtime", "Log"):
                self.call(f"{domain}.enable", session=True)
            self.call("Emulation.setDeviceMetricsOverride", session=True, width=self.width, height=self.height,
                      deviceScaleFactor=1, mobile=False)
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            if self.process.poll() is None:
                try:
                    self._send({"id": -1, "method": "Browser.close"})
                    self.process.wait(5)
                except (OSError, subprocess.TimeoutExpired):
                    self.process.kill()
                    self.process.wait(5)
        finally:
            for fd in (self._write, self._read):
                try:
                    os.close(fd)
                except OSError:
                    pass
            self._log.close()
            shutil.rmtree(self._profile, ignore_errors=True)

    # protocol
    def _send(self, message: dict[str, Any]) -> None:
        os.write(self._write, json.dumps(message).encode("utf-8") + b"\0")

    def _receive(self, deadline: float) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0 or self.process.poll() is not None:
                self._log.seek(0)
                tail = self._log.read()[-2000:].decode("utf-8", "replace")
                raise BrowserError(f"Chromium did not answer in time (exit code {self.process.poll()}); its log ends:\n{tail}")
            ready, _, _ = select.select([self._read], [], [], min(left, 0.5))
            if ready:
                chunk = os.read(self._read, 1 << 20)
                if not chunk:
                    raise BrowserError("Chromium closed the DevTools pipe")
                self._buffer += chunk
        raw, _, self._buffer = self._buffer.partition(b"\0")
        message: dict[str, Any] = json.loads(raw)
        if "method" in message:
            self._on_event(message)
        return message

    def _on_event(self, event: dict[str, Any]) -> None:
        self._events.append(event)
        method, params = event["method"], event.get("params", {})
        if method == "Runtime.exceptionThrown":
            details = params["exceptionDetails"]
            self.errors.append(f"uncaught: {details.get('exception', {}).get('description') or details.get('text')}")
        elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            self.errors.append("console.error: " + " ".join(str(a.get("value", a.get("description"))) for a in params["args"]))
        elif method == "Log.entryAdded" and params["entry"]["level"] == "error":
            self.errors.append(f"log: {params['entry']['text']}")

    def call(self, method: str, *, session: bool = False, **params: Any) -> dict[str, Any]:
        """Send one command and wait for its answer (events that arrive meanwhile are recorded)."""
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params}
        if session:
            message["sessionId"] = self._session
        self._send(message)
        deadline = time.monotonic() + self.timeout
        while True:
            answer = self._receive(deadline)
            if answer.get("id") == self._next_id:
                if "error" in answer:
                    raise BrowserError(f"{method}: {answer['error']}")
                result: dict[str, Any] = answer.get("result", {})
                return result

    def wait_for(self, method: str) -> dict[str, Any]:
        """Wait for an event of this page (one that already arrived counts)."""
        deadline = time.monotonic() + self.timeout
        while True:
            for event in self._events:
                if event["method"] == method and event.get("sessionId") == self._session:
                    self._events.remove(event)
                    return event
            self._receive(deadline)

    # page
    def open(self, path: str | Path) -> None:
        """Load a local file and wait for its load event."""
        self._events.clear()
        self.call("Page.navigate", session=True, url=Path(path).resolve().as_uri())
        self.wait_for("Page.loadEventFired")

    def evaluate(self, expression: str) -> Any:
        """The value of a JavaScript expression in the page (an exception in it raises BrowserError)."""
        answer = self.call("Runtime.evaluate", session=True, expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in answer:
            details = answer["exceptionDetails"]
            raise BrowserError(f"{expression[:80]}: {details.get('exception', {}).get('description') or details.get('text')}")
        return answer["result"].get("value")

    def screenshot(self, path: str | Path, *, max_height: int = 6000, colors: int | None = None) -> Path:
        """Save a PNG of the page from the top, at most ``max_height`` CSS pixels tall.

        ``colors``: reduce the PNG to this many colours (Pillow, a matplotlib dependency) to keep
        a committed screenshot small.
        """
        size = self.call("Page.getLayoutMetrics", session=True)["cssContentSize"]
        clip = {"x": 0, "y": 0, "width": self.width, "height": min(max_height, int(size["height"])), "scale": 1}
        data = self.call("Page.captureScreenshot", session=True, format="png", captureBeyondViewport=True, clip=clip)["data"]
        path = Path(path)
        path.write_bytes(base64.b64decode(data))
        if colors:
            from PIL import Image

            with Image.open(path) as image:
                reduced = image.convert("RGB").quantize(colors=colors, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
            reduced.save(path, optimize=True)
        return path


def main(argv: list[str] | None = None) -> int:
    """``headless_chromium.py PAGE.html SHOT.png [MAX_HEIGHT]``: open a page, fail on JS errors, save a screenshot.

    The screenshot is of the whole page (up to MAX_HEIGHT pixels, default 20,000), 1280 pixels
    wide, in 128 colours.
    """
    args = sys.argv[1:] if argv is None else argv
    if len(args) not in (2, 3):
        print(main.__doc__, file=sys.stderr)
        return 2
    with Chromium() as browser:
        browser.open(args[0])
        browser.screenshot(args[1], max_height=int(args[2]) if len(args) == 3 else 20_000, colors=128)
        errors = browser.errors
    for error in errors:
        print(error, file=sys.stderr)
    print(f"wrote {args[1]}; {len(errors)} JavaScript error(s)")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
