"""The in-process llama.cpp engine: load one GGUF model and stream generations from it.

`LlamaEngine` is what runs inside a model's worker process (`engines.local.worker`) and, for
headless runs and tests, in-process. It talks to llama.cpp through llama-cpp-python's
bindings of llama.cpp's C API and runs its own token loop, so that it can:

- reuse the longest common prefix of the previous run's tokens (the prompt cache): the same
  prompt with another temperature starts almost at once;
- check for a cancel and for a live sampling change before every token;
- sample with llama.cpp's native sampler chain, every value explicit (`engines.local.sampler_chain`);
- evaluate BOS (+ EOS) once at load and forget it (a warm-up, as llama.cpp's tools do), so
  the first answer starts as quickly as the next and the one-time cost counts as loading;
- stream UTF-8-correct text in batches (~30 ms), each token stamped when its text is ready.

The per-token path is a handful of foreign calls and dictionary lookups; everything that
can be prepared (token pieces, end-of-generation tokens, the one-token batch) is prepared
once. Stats follow ../shared/design/metrics.md, from llama.cpp's own counters.
"""

from __future__ import annotations

import ctypes
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from engines.local.prompt_format import PromptFormatError, PromptFormatter
from engines.protocol import Event, GenerationStarted
from engines.types import (
    GenerationRequest,
    GenerationStats,
    ModelInfo,
    ModelSettings,
    SamplingParams,
)

FLUSH_INTERVAL_S = 0.03
"""Send the text generated so far at least this often (never one message per token)."""

_PAGE_SIZE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


class EngineError(Exception):
    """Load or generation failed. str(e) is one line naming the file and the problem."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(reason)
        self.reason = " ".join(reason.split())
        self.detail = detail

    def __str__(self) -> str:
        return self.reason


class GenerationControl(Protocol):
    """How a running generation is steered from outside (the worker's command reader)."""

    def cancelled(self) -> bool:
        """Whether the generation should stop now."""
        ...

    def take_sampling_change(self) -> SamplingParams | None:
        """New sampling values to apply from the next token, or None if none are pending."""
        ...


class NoControl:
    """A GenerationControl that never cancels and never changes sampling."""

    def cancelled(self) -> bool:
        return False

    def take_sampling_change(self) -> SamplingParams | None:
        return None


def peak_rss_now() -> float | None:
    """This process's resident memory now, in MiB (cheap: one read of /proc/self/statm)."""
    try:
        with open("/proc/self/statm", "rb") as statm:
            return int(statm.read().split()[1]) * _PAGE_SIZE / (1024 * 1024)
    except (OSError, ValueError, IndexError):
        return None


def _default_threads() -> int:
    try:
        from engines.machine.threads import default_threads
    except ImportError:
        return os.cpu_count() or 1
    return default_threads(1)


class LlamaEngine:
    """One GGUF model loaded through llama.cpp, generating one request at a time."""

    def __init__(self, settings: ModelSettings, warm_up: bool = True) -> None:
        """`warm_up` False skips the throwaway evaluation at load (tests compare with it)."""
        self.settings = settings
        self.warm_up = warm_up
        self.warmed_up = False
        """Whether `load` ran the warm-up evaluation (see `_warm_up`)."""
        self.info: ModelInfo | None = None
        self._lib: Any = None
        self._model: Any = None
        self._ctx: Any = None
        self._vocab: Any = None
        self._memory: Any = None
        self._n_ctx = 0
        self._n_batch = 0
        self._n_vocab = 0
        self._n_swa = 0
        self._formatter: PromptFormatter | None = None
        self._piece_buffer = ctypes.create_string_buffer(64)
        self._pieces: dict[int, bytes | None] = {}
        """Token → its text bytes, or None for an end-of-generation token; filled lazily."""
        self._cached_tokens: list[int] = []
        """The tokens whose keys/values are in llama.cpp's memory right now, in order."""

    @property
    def file_name(self) -> str:
        return Path(self.settings.path).name

    # --- loading --------------------------------------------------------------------

    def load(self, on_progress: Callable[[float], None] = lambda fraction: None) -> ModelInfo:
        """Load the model and create its context. Raises EngineError naming the file."""
        if self._model is not None:
            self.close()
        settings = self.settings
        file_metadata = self._read_file_metadata()
        import llama_cpp

        from engines.local.model_info import build_model_info

        self._lib = lib = llama_cpp
        _init_backend(lib)
        warnings: list[str] = []
        n_threads = settings.n_threads or _default_threads()
        model_params = lib.llama_model_default_params()
        model_params.n_gpu_layers = (
            0x7FFFFFFF if settings.n_gpu_layers < 0 else settings.n_gpu_layers
        )
        self._apply_rpc_servers(lib, model_params, warnings)
        progress = _ProgressReporter(on_progress)
        callback = lib.llama_progress_callback(progress)
        model_params.progress_callback = callback
        model = lib.llama_model_load_from_file(os.fsencode(settings.path), model_params)
        if not model:
            arch = getattr(file_metadata, "architecture", None)
            what = f" (architecture {arch!r})" if arch else ""
            raise EngineError(
                f"{self.file_name}: llama.cpp could not load this model{what}; "
                "it may be corrupt or of an architecture this llama.cpp does not support"
            )
        self._model = model
        n_batch = max(
            1, min(settings.n_batch, settings.n_ctx) if settings.n_ctx > 0 else settings.n_batch
        )
        context_params = lib.llama_context_default_params()
        context_params.n_ctx = settings.n_ctx
        context_params.n_batch = n_batch
        context_params.n_ubatch = n_batch
        context_params.n_threads = n_threads
        context_params.n_threads_batch = n_threads
        context_params.no_perf = False
        context_params.n_outputs_max = 1
        ctx = lib.llama_init_from_model(model, context_params)
        if not ctx:
            self.close()
            raise EngineError(
                f"{self.file_name}: llama.cpp could not create a context of {settings.n_ctx} "
                "tokens (not enough memory? try a smaller n_ctx)"
            )
        self._ctx = ctx
        self._memory = lib.llama_get_memory(ctx)
        self._vocab = lib.llama_model_get_vocab(model)
        self._n_ctx = lib.llama_n_ctx(ctx)
        self._n_batch = lib.llama_n_batch(ctx)
        self._n_vocab = lib.llama_vocab_n_tokens(self._vocab)
        self._n_swa = lib.llama_model_n_swa(model) if hasattr(lib, "llama_model_n_swa") else 0
        self._pieces = {}
        self._piece_buffer = ctypes.create_string_buffer(64)
        self._cached_tokens = []
        self._formatter = self._make_formatter(lib)
        self.warmed_up = self.warm_up and self._warm_up(lib)
        progress.finish()
        self.info = build_model_info(
            settings, lib, model, self._n_ctx, n_threads, file_metadata, warnings
        )
        return self.info

    def _read_file_metadata(self) -> Any | None:
        """The file's GGUF metadata; EngineError for a file that is not a readable GGUF."""
        try:
            from engines.models.gguf_info import GGUFError, read_gguf_metadata
        except ImportError:
            return None
        try:
            return read_gguf_metadata(self.settings.path)
        except GGUFError as error:
            raise EngineError(str(error)) from error
        except Exception:  # a reader bug must not stop a model llama.cpp can load
            return None

    def _apply_rpc_servers(self, lib: Any, model_params: Any, warnings: list[str]) -> None:
        servers = self.settings.rpc_servers
        if not servers:
            return
        fields = {name for name, *_ in type(model_params)._fields_}
        if "rpc_servers" in fields and lib.llama_supports_rpc():
            self._rpc_servers_bytes = ",".join(servers).encode()
            model_params.rpc_servers = self._rpc_servers_bytes
            return
        warnings.append(
            f"RPC servers {', '.join(servers)} ignored: this llama-cpp-python build cannot use "
            "llama.cpp RPC; running locally"
        )

    def _warm_up(self, lib: Any) -> bool:
        """Evaluate BOS (+ EOS) once and forget it, as llama.cpp's own tools do at load.

        llama.cpp's first evaluation after a load pays one-time costs: the mapped weights
        are read in (from disk when they are not in the page cache yet) and its compute
        buffers and threads are set up; the chat template's renderer is built at its first
        use too. Done here, that counts in the load time ("until the
        model is ready to generate") instead of the first answer's TTFT and prompt speed
        (`benchmarks/first_run.py`). The memory is cleared and the perf counters reset
        afterwards, so no figure and no answer carries a trace of it. Returns whether it ran.
        """
        if self._formatter is not None:
            try:  # builds the chat template's Jinja renderer now (a few ms), not at the first run
                self._formatter.format("Hello.")
            except PromptFormatError:
                pass  # the first real prompt reports it
        if not lib.llama_model_has_decoder(self._model):
            return False
        ctx = self._ctx
        null = getattr(lib, "LLAMA_TOKEN_NULL", -1)
        special = (lib.llama_vocab_bos(self._vocab), lib.llama_vocab_eos(self._vocab))
        tokens = [token for token in special if token != null and token >= 0] or [0]
        tokens = tokens[: max(1, self._n_batch)]
        set_warmup = getattr(lib, "llama_set_warmup", None)  # all experts of a MoE model
        if set_warmup is not None:
            set_warmup(ctx, True)
        try:
            array = (lib.llama_token * len(tokens))(*tokens)
            result = lib.llama_decode(ctx, lib.llama_batch_get_one(array, len(tokens)))
        finally:
            lib.llama_memory_clear(self._memory, True)
            lib.llama_synchronize(ctx)
            lib.llama_perf_context_reset(ctx)
            if set_warmup is not None:
                set_warmup(ctx, False)
        return result == 0

    def _make_formatter(self, lib: Any) -> PromptFormatter:
        template = lib.llama_model_chat_template(self._model, None)
        template_text = template.decode("utf-8", errors="replace") if template else None
        return PromptFormatter(
            template_text,
            bos_token=self._token_text(lib.llama_vocab_bos(self._vocab)),
            eos_token=self._token_text(lib.llama_vocab_eos(self._vocab)),
        )

    def _token_text(self, token: int) -> str:
        if token < 0:
            return ""
        text = self._lib.llama_vocab_get_text(self._vocab, token)
        return text.decode("utf-8", errors="replace") if text else ""

    # --- tokens ---------------------------------------------------------------------

    def tokenize(self, text: str, add_special: bool, parse_special: bool) -> list[int]:
        """The tokens of `text` (BOS added when `add_special` and the model wants it)."""
        lib = self._lib
        data = text.encode("utf-8")
        capacity = len(data) + 8
        buffer = (lib.llama_token * capacity)()
        count = lib.llama_tokenize(
            self._vocab, data, len(data), buffer, capacity, add_special, parse_special
        )
        if count < 0:
            capacity = -count
            buffer = (lib.llama_token * capacity)()
            count = lib.llama_tokenize(
                self._vocab, data, len(data), buffer, capacity, add_special, parse_special
            )
        return list(buffer[:count])

    def _piece(self, token: int) -> bytes | None:
        """The token's text bytes (empty for control tokens), or None if it ends generation."""
        lib = self._lib
        if lib.llama_vocab_is_eog(self._vocab, token):
            piece = None
        else:
            buffer = self._piece_buffer
            length = lib.llama_token_to_piece(self._vocab, token, buffer, len(buffer), 0, False)
            if length < 0:
                self._piece_buffer = buffer = ctypes.create_string_buffer(-length)
                length = lib.llama_token_to_piece(self._vocab, token, buffer, len(buffer), 0, False)
            piece = buffer.raw[:length]
        self._pieces[token] = piece
        return piece

    # --- generation -----------------------------------------------------------------

    def generate(
        self,
        request: GenerationRequest,
        emit: Callable[[Event], None],
        control: GenerationControl | None = None,
    ) -> GenerationStats:
        """Run one request, emitting GenerationStarted, TokensGenerated and SamplingChanged.

        Returns the stats (ttft_s and the parent-side figures are left for the caller).
        Raises EngineError for a prompt that does not fit or a llama.cpp failure.
        """
        from engines.local.token_loop import run_generation

        if self._ctx is None or self._formatter is None:
            raise EngineError(f"{self.file_name}: the model is not loaded")
        try:
            formatted = self._formatter.format(request.prompt, request.system_prompt)
        except PromptFormatError as error:
            raise EngineError(f"{self.file_name}: {error}") from error
        tokens = self.tokenize(formatted.text, formatted.add_special, formatted.parse_special)
        if not tokens:
            raise EngineError(f"{self.file_name}: the prompt is empty")
        if len(tokens) >= self._n_ctx:
            raise EngineError(
                f"prompt is {len(tokens)} tokens but the context is {self._n_ctx}; "
                "shorten it or raise n_ctx"
            )
        emit(GenerationStarted(request.request_id, formatted.mode, len(tokens)))
        return run_generation(self, request, formatted.mode, tokens, emit, control or NoControl())

    def close(self) -> None:
        """Free the context and the model. Safe to call twice."""
        lib = self._lib
        if self._ctx is not None:
            lib.llama_free(self._ctx)
            self._ctx = None
        if self._model is not None:
            lib.llama_model_free(self._model)
            self._model = None
        self._memory = None
        self._cached_tokens = []

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # interpreter shutdown: the library may be gone already
            pass


_backend_ready = False


def _init_backend(lib: Any) -> None:
    global _backend_ready
    if not _backend_ready:
        lib.llama_backend_init()
        _backend_ready = True


class _ProgressReporter:
    """llama.cpp's load-progress callback, passing on steps of at least 5 % (never raising)."""

    def __init__(self, on_progress: Callable[[float], None]) -> None:
        self._on_progress = on_progress
        self._last = -1.0

    def __call__(self, fraction: float, _user_data: Any) -> bool:
        if fraction >= 1.0 or fraction - self._last >= 0.05:
            self._report(min(1.0, float(fraction)))
        return True

    def finish(self) -> None:
        if self._last < 1.0:
            self._report(1.0)

    def _report(self, fraction: float) -> None:
        self._last = fraction
        try:
            self._on_progress(fraction)
        except Exception:  # a failing progress display must not abort the load
            pass
