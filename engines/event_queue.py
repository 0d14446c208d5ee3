"""Events made by a handle's background threads, handed to the consumer in batches.

The fake engine (`engines.fake`) and the remote server handle (`engines.remote.handle`) produce
their events on threads of their own; both implement `ModelHandle.next_events` with an
`EventQueue`: wait for the first event (or the timeout), then take every event that is
ready too, in order.
"""

from __future__ import annotations

import queue

from engines.protocol import Event


class EventQueue:
    """A thread-safe queue of events; `next_events` returns everything ready at once."""

    def __init__(self) -> None:
        self._queue: queue.SimpleQueue[Event] = queue.SimpleQueue()

    def put(self, event: Event) -> None:
        """Add one event (any thread)."""
        self._queue.put(event)

    def next_events(self, timeout: float | None = None) -> list[Event]:
        """Block until at least one event is ready or `timeout` passes (then return [])."""
        try:
            events = [self._queue.get(timeout=timeout)]
        except queue.Empty:
            return []
        while True:
            try:
                events.append(self._queue.get_nowait())
            except queue.Empty:
                return events
