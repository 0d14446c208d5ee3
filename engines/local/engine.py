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
once. Stats follow docs/metrics.md, from llama.cpp's own counters.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from engines.fidelity.figures import FidelityFigures, FidelityRequest
from engines.local.fidelity_pass import run_fidelity_pass
from engines.local.llama_context import EngineError, LlamaContext
from engines.local.model_info import build_model_info
from engines.local.prompt_format import ChatTemplateTooSlow, PromptFormatError, PromptFormatter
from engines.local.threadpool import CpuThreadPool
from engines.local.token_loop import GenerationControl, NoControl, run_generation
from engines.machine.threads import default_threads
from engines.models.gguf_info import GGUFError, read_gguf_metadata
from engines.protocol import Event, GenerationStarted
from engines.types import GenerationRequest, GenerationStats, ModelInfo, ModelSettings

__all__ = ["EngineError", "GenerationControl", "LlamaEngine", "NoControl"]


class LlamaEngine:
    """One GGUF model loaded through llama.cpp, generating one request at a time."""

    def __init__(self, settings: ModelSettings, warm_up: bool = True) -> None:
        """`warm_up` False skips the throwaway evaluation at load (tests compare with it)."""
        self.settings = settings
        self.warm_up = warm_up
        self.warmed_up = False
        """Whether `load` ran the warm-up evaluation (see `_warm_up`)."""
        self.info: ModelInfo | None = None
        self.context: LlamaContext | None = None
        """The loaded model and its llama.cpp context (None until loaded, after close)."""
        self._formatter: PromptFormatter | None = None
        self._n_threads = 1

    @property
    def file_name(self) -> str:
        return Path(self.settings.path).name

    # --- loading --------------------------------------------------------------------

    def load(self, on_progress: Callable[[float], None] = lambda fraction: None) -> ModelInfo:
        """Load the model and create its context. Raises EngineError naming the file."""
        if self.context is not None:
            self.close()
        settings = self.settings
        file_metadata = self._read_file_metadata()
        import llama_cpp

        lib = llama_cpp
        _init_backend(lib)
        warnings: list[str] = []
        n_threads = self._n_threads = settings.n_threads or default_threads(1)
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
            lib.llama_model_free(model)
            raise EngineError(
                f"{self.file_name}: llama.cpp could not create a context of {settings.n_ctx} "
                "tokens (not enough memory? try a smaller n_ctx)"
            )
        self.context = context = LlamaContext(lib, model, ctx, self.file_name)
        context.attach_threadpool(CpuThreadPool(lib, n_threads))
        self._formatter = self._make_formatter(context)
        self._check_template(self._formatter)
        self.warmed_up = self.warm_up and self._warm_up(context)
        progress.finish()
        self.info = build_model_info(
            settings, lib, model, context.n_ctx, n_threads, file_metadata, warnings
        )
        return self.info

    def _read_file_metadata(self) -> Any | None:
        """The file's GGUF metadata; EngineError for a file that is not a readable GGUF."""
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

    def _warm_up(self, context: LlamaContext) -> bool:
        """Evaluate BOS (+ EOS) once and forget it, as llama.cpp's own tools do at load.

        llama.cpp's first evaluation after a load pays one-time costs: the mapped weights
        are read in (from disk when they are not in the page cache yet) and its compute
        buffers and threads are set up. Done here, that counts in the load time ("until the
        model is ready to generate") instead of the first answer's TTFT and prompt speed
        (`benchmarks/first_run.py`). The memory is cleared and the perf counters reset
        afterwards, so no figure and no answer carries a trace of it. Returns whether it ran.
        """
        lib, ctx = context.lib, context.ctx
        if not lib.llama_model_has_decoder(context.model):
            return False
        null = getattr(lib, "LLAMA_TOKEN_NULL", -1)
        special = (lib.llama_vocab_bos(context.vocab), lib.llama_vocab_eos(context.vocab))
        tokens = [token for token in special if token != null and token >= 0] or [0]
        tokens = tokens[: max(1, context.n_batch)]
        set_warmup = getattr(lib, "llama_set_warmup", None)  # all experts of a MoE model
        if set_warmup is not None:
            set_warmup(ctx, True)
        try:
            array = (lib.llama_token * len(tokens))(*tokens)
            result = lib.llama_decode(ctx, lib.llama_batch_get_one(array, len(tokens)))
        finally:
            context.forget()
            lib.llama_synchronize(ctx)
            lib.llama_perf_context_reset(ctx)
            if set_warmup is not None:
                set_warmup(ctx, False)
        return result == 0

    def _check_template(self, formatter: PromptFormatter) -> None:
        """Render a prompt through the chat template once, at load.

        Builds the template's Jinja renderer now (a few ms), not at the first run. A template
        that does not finish within its time limit fails the load (every run would fail),
        with a one-line EngineError naming the model; any other template error is left for
        the first real prompt to report.
        """
        try:
            formatter.format("Hello.")
        except ChatTemplateTooSlow as error:
            self.close()
            raise EngineError(f"{self.file_name}: {error}") from None
        except PromptFormatError:
            pass

    def _make_formatter(self, context: LlamaContext) -> PromptFormatter:
        lib = context.lib
        template = lib.llama_model_chat_template(context.model, None)
        template_text = template.decode("utf-8", errors="replace") if template else None
        return PromptFormatter(
            template_text,
            bos_token=context.token_text(lib.llama_vocab_bos(context.vocab)),
            eos_token=context.token_text(lib.llama_vocab_eos(context.vocab)),
        )

    def tokenize(self, text: str, add_special: bool, parse_special: bool) -> list[int]:
        """The tokens of `text` in the loaded model's vocabulary."""
        if self.context is None:
            raise EngineError(f"{self.file_name}: the model is not loaded")
        return self.context.tokenize(text, add_special, parse_special)

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
        context = self.context
        if context is None or self._formatter is None:
            raise EngineError(f"{self.file_name}: the model is not loaded")
        try:
            formatted = self._formatter.format(request.prompt, request.system_prompt)
        except PromptFormatError as error:
            raise EngineError(f"{self.file_name}: {error}") from error
        tokens = context.tokenize(formatted.text, formatted.add_special, formatted.parse_special)
        if not tokens:
            raise EngineError(f"{self.file_name}: the prompt is empty")
        if len(tokens) >= context.n_ctx:
            raise EngineError(
                f"prompt is {len(tokens)} tokens but the context is {context.n_ctx}; "
                "shorten it or raise n_ctx"
            )
        emit(GenerationStarted(request.request_id, formatted.mode, len(tokens)))
        return run_generation(
            context, request, formatted.mode, tokens, emit, control or NoControl()
        )

    # --- fidelity -------------------------------------------------------------------

    def evaluate(
        self,
        request: FidelityRequest,
        emit: Callable[[Event], None],
        control: GenerationControl | None = None,
    ) -> FidelityFigures:
        """Run a fidelity pass (`engines.local.fidelity_pass`), emitting FidelityProgressed.

        Raises EngineError for a text too short for the windows or a llama.cpp failure.
        """
        if self.context is None:
            raise EngineError(f"{self.file_name}: the model is not loaded")
        control = control or NoControl()
        return run_fidelity_pass(self.context, self._n_threads, request, emit, control.cancelled)

    def close(self) -> None:
        """Free the context and the model. Safe to call twice."""
        context, self.context = self.context, None
        if context is not None:
            context.free()

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
