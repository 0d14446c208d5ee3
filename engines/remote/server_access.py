"""Where a server pane's server is and the API key it is reached with, kept out of messages.

`ServerAccess` is what every part of a remote pane shares: the base URL (and its host, for
messages), the API key and the environment variable it came from. It says what to do about a
refused key, warns when the key's variable is unset, and takes the key out of any event
should a server have echoed it back.
"""

from __future__ import annotations

import dataclasses
from urllib.parse import urlsplit

from engines.protocol import Event, GenerationFinished, LoadFailed, Warned
from engines.remote.client import ServerError, redact


@dataclasses.dataclass(frozen=True)
class ServerAccess:
    """A server's base URL (no trailing slash) and the key for it (never logged)."""

    base_url: str
    api_key: str | None = None
    api_key_env: str | None = None
    """The environment variable the key came from, for messages."""

    @property
    def host(self) -> str:
        return urlsplit(self.base_url).netloc or self.base_url

    def key_warnings(self) -> list[str]:
        """A warning when the key's environment variable is named but not set."""
        if self.api_key_env and not self.api_key:
            return [f"environment variable {self.api_key_env} is not set: no API key is sent"]
        return []

    def failure_line(self, error: ServerError) -> str:
        """The error's line; for a 401/403 answer, with where the API key comes from."""
        message = str(error)
        if error.status not in (401, 403):
            return message
        if self.api_key:
            return f"{message} (the API key from {self.api_key_env or 'the profile'} was refused)"
        if self.api_key_env:
            return f"{message} (set {self.api_key_env} to the server's API key)"
        return (
            f"{message} (the server wants an API key: set api_key_env in the pane's profile entry)"
        )

    def redacted(self, event: Event) -> Event:
        """`event` with the API key taken out of its message, should a server have echoed it."""
        if not self.api_key:
            return event
        if isinstance(event, LoadFailed):
            return dataclasses.replace(event, reason=redact(event.reason, self.api_key))
        if isinstance(event, Warned):
            return dataclasses.replace(event, message=redact(event.message, self.api_key))
        if isinstance(event, GenerationFinished) and event.stats.error:
            stats = dataclasses.replace(event.stats, error=redact(event.stats.error, self.api_key))
            return dataclasses.replace(event, stats=stats)
        return event
