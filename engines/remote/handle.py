"""A pane backed by an OpenAI-compatible server: llama-server, vLLM, Ollama, llama-cpp-python's.

`RemoteModelHandle` takes the same commands and sends the same events as a local worker,
so a profile can put a model served on a GPU box next to a local GGUF. Loading asks the
server what it offers (`/v1/models`, `engines.remote.model_loading`); each generation is one
streamed chat completion (`engines.remote.chat_completions`), after which the server's own
figures are read where it publishes them (`engines.remote.server_metrics`). Figures are measured on this side (TTFT, decode speed); the
server's own counts and speeds are used where it returns them; what cannot be known from
here (the server's memory, GPU, energy) stays None and shows as "—".

Failures are one line in the pane: a server that is down or unknown, a timeout, an HTTP
error with the server's message, an error reported inside the stream, a malformed chunk,
an HTML page where the stream should be, an answer over the size caps, or a stream that
ends mid-answer. The API key never appears in them, even when a server echoes it back
(`engines.remote.server_access`). Sampling changes during an answer apply to the next
request (a server cannot change them mid-answer), and the pane is told so.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from engines.event_queue import EventQueue
from engines.messages import one_line
from engines.protocol import (
    Event,
    GenerationFinished,
    LoadFailed,
    LoadProgressed,
    ModelHandle,
    ModelLoaded,
    Warned,
)
from engines.remote.chat_completions import ChatCompletions
from engines.remote.client import ServerError, Timeouts
from engines.remote.model_loading import (
    choose_model,
    listed_models,
    resolved_timeouts,
    served_model_info,
)
from engines.remote.server_access import ServerAccess
from engines.remote.server_listing import fetch_llama_server_props, server_kind
from engines.remote.server_logprobs import LOGPROB_SERVERS
from engines.remote.server_metrics import ServerFigureReader
from engines.remote.stream import sampling_notes
from engines.types import GenerationRequest, GenerationStats, ModelSettings, SamplingParams

NEXT_REQUEST_NOTICE = (
    "sampling changes (temperature, …) apply to the next request on a remote server"
)
"""Shown when a sampling value changes while a remote pane is answering."""


class RemoteModelHandle(ModelHandle):
    """The parent's side of a model behind an OpenAI-compatible server."""

    def __init__(
        self,
        base_url: str,
        model: str | None = None,
        api_key: str | None = None,
        read_timeout_s: float | None = None,
        *,
        connect_timeout_s: float | None = None,
        api_key_env: str | None = None,
    ) -> None:
        """`model` None takes the server's only model. Timeouts left None come from
        config.toml's `[remote]` table (then the defaults of `Timeouts`). `api_key_env` names
        the environment variable the key came from, for messages; the key is never logged."""
        self._access = ServerAccess(base_url.rstrip("/"), api_key, api_key_env)
        self.model = model
        self._read_timeout_s = read_timeout_s
        self._connect_timeout_s = connect_timeout_s
        self.timeouts: Timeouts | None = None
        self.server_kind = "unknown"
        self._served_model: str | None = model
        self._events = EventQueue()
        self._completions = ChatCompletions(self._access, self._events.put)
        self._server_figures = ServerFigureReader(self._access.base_url, api_key)
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._generating = False
        self._notice_given = False
        self._loaded = False
        self._alive = True

    @property
    def base_url(self) -> str:
        return self._access.base_url

    @property
    def api_key(self) -> str | None:
        return self._access.api_key

    @property
    def api_key_env(self) -> str | None:
        return self._access.api_key_env

    @property
    def host(self) -> str:
        return self._access.host

    @property
    def serves_token_probabilities(self) -> bool:
        """A server known to answer `logprobs` that has not rejected them."""
        return self.server_kind in LOGPROB_SERVERS and not (
            {"logprobs", "top_logprobs"} & self._completions.dropped_fields
        )

    # --- commands -------------------------------------------------------------------

    def load(self, settings: ModelSettings) -> None:
        self._start(self._run_load, settings)

    def generate(self, request: GenerationRequest) -> None:
        with self._lock:
            self._completions.rearm()
            self._generating = True
            self._notice_given = False
        self._start(self._run_generation, request)

    def update_sampling(self, sampling: SamplingParams) -> None:
        with self._lock:
            if not self._generating or self._notice_given:
                return
            self._notice_given = True
        self._events.put(Warned(NEXT_REQUEST_NOTICE))

    def cancel(self) -> None:
        self._completions.cancel()

    def next_events(self, timeout: float | None = None) -> list[Event]:
        return [self._access.redacted(event) for event in self._events.next_events(timeout)]

    def close(self) -> None:
        self._alive = False
        self.cancel()

    @property
    def pid(self) -> int | None:
        return None

    @property
    def alive(self) -> bool:
        return self._alive

    def _start(self, target: Callable, argument: object) -> None:
        if self._thread is not None:
            self._thread.join()
        self._thread = threading.Thread(target=target, args=(argument,), daemon=True)
        self._thread.start()

    # --- loading --------------------------------------------------------------------

    def _run_load(self, settings: ModelSettings) -> None:
        try:
            self._load(settings)
        except ServerError as exc:
            self._events.put(LoadFailed(self._access.failure_line(exc)))
        except ValueError as exc:
            self._events.put(LoadFailed(one_line(str(exc))))
        except Exception as exc:  # noqa: BLE001 - a bug here must still end the load in its pane
            self._events.put(LoadFailed(f"{type(exc).__name__}: {one_line(str(exc))}"))

    def _load(self, settings: ModelSettings) -> None:
        started = time.perf_counter()
        self._events.put(LoadProgressed(0.0))
        self.timeouts = resolved_timeouts(self._connect_timeout_s, self._read_timeout_s)
        warnings = self._access.key_warnings()
        models = listed_models(self._access, self.timeouts)
        name, chosen = choose_model(self._access, self.model, models, warnings)
        if self.model is None:
            self._served_model = name
        self._events.put(LoadProgressed(0.5))
        self.server_kind = server_kind(self.base_url, chosen)
        props = {}
        if self.server_kind in ("llama.cpp", "unknown"):
            props = fetch_llama_server_props(self.base_url, self.api_key, self.timeouts)
        warnings += sampling_notes(self.server_kind, self.host)
        info = served_model_info(
            self.base_url,
            self._served_model or (chosen.id if chosen else ""),
            settings,
            chosen,
            props,
            warnings,
            time.perf_counter() - started,
        )
        self._loaded = True
        self._events.put(LoadProgressed(1.0))
        self._events.put(ModelLoaded(info))

    # --- generating -----------------------------------------------------------------

    def _run_generation(self, request: GenerationRequest) -> None:
        try:
            stats = self._completions.answer(
                request,
                self._served_model,
                self.server_kind,
                self.timeouts if self._loaded else None,
            )
            stats = self._server_figures.with_figures(stats, self.server_kind)
        except Exception as exc:  # noqa: BLE001 - a bug here must still end the run in its pane
            stats = GenerationStats(
                "error", "chat", None, 0, None, None, None, None, error=one_line(str(exc))
            )
        with self._lock:
            self._generating = False
        self._events.put(GenerationFinished(request.request_id, stats))
