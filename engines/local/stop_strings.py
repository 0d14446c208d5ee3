"""Stop strings in streamed text: stop at the first one, never show any part of it.

Text that might be the start of a stop string is held back until the next piece shows
whether it is one, so the user never sees half a stop string flash up and disappear.
"""

from __future__ import annotations

from collections.abc import Iterable


class StopStringMatcher:
    """Finds the first stop string in text fed piece by piece.

    `feed()` returns the text safe to show now and whether a stop string was reached;
    the stop string itself and anything after it are dropped.
    """

    __slots__ = ("_stops", "_pending", "stopped")

    def __init__(self, stops: Iterable[str]) -> None:
        self._stops = tuple(stop for stop in stops if stop)
        self._pending = ""
        self.stopped = False
        """Whether a stop string has been reached."""

    @property
    def active(self) -> bool:
        """Whether there is any stop string to look for."""
        return bool(self._stops)

    def replace_stops(self, stops: Iterable[str]) -> None:
        """Look for other stop strings from now on (a live sampling change)."""
        self._stops = tuple(stop for stop in stops if stop)

    def feed(self, text: str) -> tuple[str, bool]:
        """Add `text`; return (text to show now, whether a stop string was reached)."""
        if self.stopped:
            return "", True
        buffer = self._pending + text
        first = -1
        for stop in self._stops:
            found = buffer.find(stop)
            if found != -1 and (first == -1 or found < first):
                first = found
        if first != -1:
            self._pending = ""
            self.stopped = True
            return buffer[:first], True
        hold = self._longest_stop_prefix_suffix(buffer)
        self._pending = buffer[len(buffer) - hold :] if hold else ""
        return buffer[: len(buffer) - hold], False

    def finish(self) -> str:
        """The held-back text at the end of the generation (it was not a stop string)."""
        text, self._pending = self._pending, ""
        return text

    def _longest_stop_prefix_suffix(self, buffer: str) -> int:
        """Length of the longest end of `buffer` that is the beginning of some stop string."""
        longest = 0
        for stop in self._stops:
            for length in range(min(len(stop) - 1, len(buffer)), longest, -1):
                if buffer.endswith(stop[:length]):
                    longest = length
                    break
        return longest
