"""A pane backed by an OpenAI-compatible server: llama-server, vLLM, Ollama, llama-cpp-python's.

`RemoteModelHandle` takes the same commands and sends the same events as a local worker,
so a profile can put a model served on a GPU box next to a local GGUF. Loading asks the
server what it offers (`/v1/models`); each generation is one streamed chat completion
(`engines.remote.stream`). Figures are measured on this side (TTFT, decode speed); the
server's own counts and speeds are used where it returns them; what cannot be known from
here (the server's memory, GPU, energy) stays None and shows as "—".

Failures are one line in the pane: a server that is down or unknown, a timeout, an HTTP
error with the server's message, an error reported inside the stream, a malformed chunk,
an HTML page where the stream should be, an answer over the size caps, or a stream that
ends mid-answer. The API key never appears in them, even when a server echoes it back.
A 400 that names an optional field (say `top_k`) is shown as a warning and the request is
sent again without that field. A server that ignores `max_tokens` is cut off here: the
stream is closed after that many tokens and the answer ends with stop reason "length". Sampling changes during an answer apply to the next request (a server cannot
change them mid-answer), and the pane is told so.
"""

from __future__ import annotations

import dataclasses
import http.client
import threading
import time
from collections.abc import Callable
from pathlib import PurePosixPath
from urllib.parse import urlsplit

from engines.event_queue import EventQueue
from engines.messages import one_line
from engines.protocol import (
    Event,
    GenerationFinished,
    GenerationStarted,
    LoadFailed,
    LoadProgressed,
    ModelHandle,
    ModelLoaded,
    Warned,
)
from engines.remote.answer_reader import is_whole_answer, read_answer
from engines.remote.client import ServerConnection, ServerError, Timeouts, redact
from engines.remote.server_listing import (
    ServerModel,
    configured_timeouts,
    fetch_llama_server_props,
    fetch_server_models,
    server_kind,
)
from engines.remote.server_logprobs import LOGPROB_SERVERS, LogprobReader
from engines.remote.server_metrics import read_server_figures
from engines.remote.stream import StreamTally, rejected_field, request_body, sampling_notes
from engines.types import (
    GenerationRequest,
    GenerationStats,
    ModelInfo,
    ModelSettings,
    SamplingParams,
)

NEXT_REQUEST_NOTICE = (
    "sampling changes (temperature, …) apply to the next request on a remote server"
)
"""Shown when a sampling value changes while a remote pane is answering."""
SELF_REPORTING = ("llama.cpp", "vllm", "unknown")
"""Server kinds that may publish /metrics, /props or /slots (`engines.remote.server_metrics`)."""
MAX_RETRIES = 4
"""How many rejected fields a request may drop before the error is final."""


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
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.api_key = api_key
        self.api_key_env = api_key_env
        self._read_timeout_s = read_timeout_s
        self._connect_timeout_s = connect_timeout_s
        self.timeouts: Timeouts | None = None
        self.server_kind = "unknown"
        self._served_model: str | None = model
        self._dropped_fields: set[str] = set()
        self._events = EventQueue()
        self._lock = threading.Lock()
        self._connection: ServerConnection | None = None
        self._cancel = threading.Event()
        self._thread: threading.Thread | None = None
        self._generating = False
        self._notice_given = False
        self._loaded = False
        self._alive = True
        self._usage_notice_given = False
        self._limit_notice_given = False
        self._self_reporting: bool | None = None
        """Whether the server published its own figures (None: not asked yet)."""

    @property
    def serves_token_probabilities(self) -> bool:
        """A server known to answer `logprobs` that has not rejected them."""
        return self.server_kind in LOGPROB_SERVERS and not (
            {"logprobs", "top_logprobs"} & self._dropped_fields
        )

    @property
    def host(self) -> str:
        return urlsplit(self.base_url).netloc or self.base_url

    # --- commands -------------------------------------------------------------------

    def load(self, settings: ModelSettings) -> None:
        self._start(self._run_load, settings)

    def generate(self, request: GenerationRequest) -> None:
        with self._lock:
            self._cancel.clear()
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
        with self._lock:
            self._cancel.set()
            connection = self._connection
        if connection is not None:
            connection.close()

    def next_events(self, timeout: float | None = None) -> list[Event]:
        return [self._redacted(event) for event in self._events.next_events(timeout)]

    def close(self) -> None:
        self._alive = False
        self.cancel()

    @property
    def pid(self) -> int | None:
        return None

    @property
    def alive(self) -> bool:
        return self._alive

    # --- loading --------------------------------------------------------------------

    def _start(self, target: Callable, argument: object) -> None:
        if self._thread is not None:
            self._thread.join()
        self._thread = threading.Thread(target=target, args=(argument,), daemon=True)
        self._thread.start()

    def _redacted(self, event: Event) -> Event:
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

    def _run_load(self, settings: ModelSettings) -> None:
        try:
            self._load(settings)
        except ServerError as exc:
            self._events.put(LoadFailed(_with_key_hint(exc, self)))
        except ValueError as exc:
            self._events.put(LoadFailed(one_line(str(exc))))
        except Exception as exc:  # noqa: BLE001 - a bug here must still end the load in its pane
            self._events.put(LoadFailed(f"{type(exc).__name__}: {one_line(str(exc))}"))

    def _load(self, settings: ModelSettings) -> None:
        started = time.perf_counter()
        self._events.put(LoadProgressed(0.0))
        self.timeouts = self._timeouts()
        warnings = self._key_warnings()
        chosen = self._choose(self._listed_models(), warnings)
        self._events.put(LoadProgressed(0.5))
        self.server_kind = server_kind(self.base_url, chosen)
        props = {}
        if self.server_kind in ("llama.cpp", "unknown"):
            props = fetch_llama_server_props(self.base_url, self.api_key, self.timeouts)
        warnings += sampling_notes(self.server_kind, self.host)
        info = self._model_info(settings, chosen, props, warnings, time.perf_counter() - started)
        self._loaded = True
        self._events.put(LoadProgressed(1.0))
        self._events.put(ModelLoaded(info))

    def _timeouts(self) -> Timeouts:
        if self._read_timeout_s is not None and self._connect_timeout_s is not None:
            return Timeouts(self._connect_timeout_s, self._read_timeout_s)
        configured = configured_timeouts()
        return Timeouts(
            self._connect_timeout_s
            if self._connect_timeout_s is not None
            else configured.connect_s,
            self._read_timeout_s if self._read_timeout_s is not None else configured.read_s,
        )

    def _key_warnings(self) -> list[str]:
        if self.api_key_env and not self.api_key:
            return [f"environment variable {self.api_key_env} is not set: no API key is sent"]
        return []

    def _listed_models(self) -> list[ServerModel]:
        """What the server offers; a 404 most likely means a wrong base URL."""
        assert self.timeouts is not None
        try:
            return fetch_server_models(self.base_url, self.api_key, self.timeouts)
        except ServerError as exc:
            if exc.status == 404:
                raise ServerError(
                    f"{exc} (is the URL right? it usually ends in /v1, e.g. http://HOST:8080/v1)"
                ) from None
            raise

    def _choose(self, models: list[ServerModel], warnings: list[str]) -> ServerModel | None:
        """The model to ask for: the one named, or the server's only one."""
        names = [m.id for m in models]
        listed = ", ".join(names[:8]) + (", …" if len(names) > 8 else "")
        if self.model is None:
            if len(models) == 1:
                self._served_model = models[0].id
                return models[0]
            if not models:
                raise ServerError(f"{self.base_url} offers no models")
            raise ServerError(
                f"{self.base_url} offers several models ({listed}); name one: "
                f"openai:{self.base_url}#MODEL"
            )
        for model in models:
            if model.id == self.model:
                return model
        if not models:
            warnings.append(f"{self.host} lists no models; asking it for {self.model!r}")
            return None
        if len(models) == 1:
            # llama-server and llama-cpp-python answer with their one model whatever the name.
            warnings.append(f"{self.host} lists only {names[0]!r}; asking it for {self.model!r}")
            return models[0]
        raise ServerError(f"{self.base_url} has no model {self.model!r}; it offers {listed}")

    def _model_info(
        self,
        settings: ModelSettings,
        model: ServerModel | None,
        props: dict,
        warnings: list[str],
        load_s: float,
    ) -> ModelInfo:
        from engines.models.references import quant_in_name

        name = self._served_model or (model.id if model else "")
        file_name = PurePosixPath(name).name or name
        generation = props.get("default_generation_settings")
        n_ctx = (model.n_ctx if model else None) or _int(props.get("n_ctx"))
        if not n_ctx and isinstance(generation, dict):
            n_ctx = _int(generation.get("n_ctx"))
        return ModelInfo(
            path=f"openai:{self.base_url}#{name}",
            file_name=file_name,
            file_size=None,
            name=settings.label or file_name,
            architecture="",
            n_params=model.n_params if model else None,
            quantization=quant_in_name(file_name),
            n_ctx_train=model.n_ctx_train if model else None,
            n_ctx=n_ctx or 0,
            n_layers=None,
            has_chat_template=True,
            backend=f"remote ({self.base_url})",
            n_gpu_layers_requested=settings.n_gpu_layers,
            n_gpu_layers_offloaded=0,
            n_threads=None,
            llama_cpp_python_version="",
            llama_cpp_version=str(props.get("build_info") or ""),
            load_s=load_s,
            warnings=tuple(warnings),
        )

    # --- generating -----------------------------------------------------------------

    def _run_generation(self, request: GenerationRequest) -> None:
        try:
            stats = self._with_server_figures(self._generate(request))
        except Exception as exc:  # noqa: BLE001 - a bug here must still end the run in its pane
            stats = GenerationStats(
                "error", "chat", None, 0, None, None, None, None, error=one_line(str(exc))
            )
        with self._lock:
            self._generating = False
            self._connection = None
        self._events.put(GenerationFinished(request.request_id, stats))

    def _with_server_figures(self, stats: GenerationStats) -> GenerationStats:
        """`stats` with what the server says about itself (llama-server, vLLM), if anything.

        A server that said nothing after its first answer is not asked again, so a server
        without these endpoints costs one round of requests, once."""
        if stats.stop_reason in ("error", "cancelled") or self.server_kind not in SELF_REPORTING:
            return stats
        if self._self_reporting is False:
            return stats
        figures = read_server_figures(self.base_url, self.api_key)
        self._self_reporting = figures.known
        return dataclasses.replace(stats, server=figures) if figures.known else stats

    def _generate(self, request: GenerationRequest) -> GenerationStats:
        self._events.put(GenerationStarted(request.request_id, "chat", None))
        tally = StreamTally(
            request.request_id,
            time.perf_counter(),
            self._events.put,
            max_tokens=request.sampling.max_tokens,
            logprobs=(
                LogprobReader(request.sampling.temperature) if request.top_candidates else None
            ),
        )
        if not self._loaded or self.timeouts is None:
            return tally.stats("error", "the server model is not loaded")
        for _ in range(MAX_RETRIES + 1):
            body = request_body(self._served_model, request, self.server_kind, self._dropped_fields)
            connection = ServerConnection(self.base_url, self.timeouts, self.api_key)
            with self._lock:
                if self._cancel.is_set():
                    return tally.stats("cancelled")
                self._connection = connection
            tally.sent_at = time.perf_counter()
            try:
                response = connection.send("POST", "/chat/completions", body)
                break
            except ServerError as exc:
                if self._cancel.is_set():
                    return tally.stats("cancelled")
                field = (
                    rejected_field(exc.server_message, body) if exc.status in (400, 422) else None
                )
                if field is None:
                    return tally.stats("error", _with_key_hint(exc, self))
                self._dropped_fields.add(field)
                self._events.put(
                    Warned(
                        f"{self.host} rejected {field} ({exc.server_message}); running without it"
                    )
                )
        else:  # pragma: no cover - every optional field rejected in turn
            return tally.stats("error", f"{self.host} rejected the request")
        return self._read_stream(connection, response, tally)

    def _read_stream(
        self, connection: ServerConnection, response: http.client.HTTPResponse, tally: StreamTally
    ) -> GenerationStats:
        error = read_answer(connection, response, tally)
        if self._cancel.is_set():
            return tally.stats("cancelled")
        if tally.error:
            return tally.stats("error", f"{self.host} reported an error: {tally.error}")
        if tally.malformed:
            return tally.stats(
                "error", f"{self.host} sent a malformed chunk ({tally.malformed}), not a chat "
                "completion chunk; is it an OpenAI-compatible server?",
            )  # fmt: skip
        if tally.over_limit:
            self._say_limit_overrun(tally)
            return tally.stats("length")
        if error is None and not tally.done and tally.finish_reason is None:
            error = f"{self.base_url} ended the stream mid-answer, after {tally.text_tokens} tokens"
        if error is not None:
            return tally.stats("error", error)
        if is_whole_answer(response):
            self._events.put(
                Warned(
                    f"{self.host} answered without streaming: the whole answer came at once, "
                    "so TTFT is the full time and decode speed is unknown"
                )
            )
        if not tally.has_counts and not self._usage_notice_given:
            self._usage_notice_given = True
            self._events.put(
                Warned(
                    f"{self.host} returns no token counts while streaming: generated tokens are "
                    "counted from the streamed chunks, prompt tokens are unknown (—)"
                )
            )
        return tally.stats(tally.stop_reason())

    def _say_limit_overrun(self, tally: StreamTally) -> None:
        """Once per pane: the server wrote past max_tokens, so llmbench stopped reading."""
        if self._limit_notice_given:
            return
        self._limit_notice_given = True
        self._events.put(
            Warned(
                f"{self.host} kept writing past max_tokens ({tally.max_tokens}); llmbench closed "
                "the stream there (the server may ignore max_tokens)"
            )
        )


def _with_key_hint(error: ServerError, handle: RemoteModelHandle) -> str:
    """The error's line; for a 401/403 answer, with where the API key comes from."""
    message = str(error)
    if error.status not in (401, 403):
        return message
    if handle.api_key:
        return f"{message} (the API key from {handle.api_key_env or 'the profile'} was refused)"
    if handle.api_key_env:
        return f"{message} (set {handle.api_key_env} to the server's API key)"
    return f"{message} (the server wants an API key: set api_key_env in the pane's profile entry)"


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None
