"""A persistent CPU thread pool for a llama.cpp context, as llama.cpp's own tools attach one.

Without an attached pool, ggml's CPU backend creates and joins a fresh set of worker
threads for every graph it computes: with several threads that is once per generated
token, a cost llama-bench never pays (it attaches `ggml_threadpool_new(...)` with
`llama_attach_threadpool`). `CpuThreadPool` does the same through ctypes, since
llama-cpp-python binds neither function's signature. The pool polls for work a little
between graphs (ggml's default `poll` 50, llama-bench's too) and sleeps when idle.

Layout of `struct ggml_threadpool_params` checked against the ggml.h vendored in
llama-cpp-python 0.3.36 (GGML_MAX_N_THREADS 512). Anything missing from the library: no
pool, and llama.cpp keeps its per-graph threads (slower, still correct).
"""

from __future__ import annotations

import ctypes
from typing import Any

GGML_MAX_N_THREADS = 512


class _ThreadPoolParams(ctypes.Structure):
    _fields_ = [
        ("cpumask", ctypes.c_bool * GGML_MAX_N_THREADS),
        ("n_threads", ctypes.c_int),
        ("prio", ctypes.c_int),
        ("poll", ctypes.c_uint32),
        ("strict_cpu", ctypes.c_bool),
        ("paused", ctypes.c_bool),
    ]


class CpuThreadPool:
    """One ggml thread pool of `n_threads`, attached to a context; `free()` when done."""

    def __init__(self, lib: Any, n_threads: int, poll: int = 0) -> None:
        self._lib = lib
        self._ctx: Any = None
        self.pointer: int | None = None
        native = getattr(getattr(lib, "llama_cpp", None), "_lib", None) or getattr(lib, "_lib", lib)
        try:
            init = native.ggml_threadpool_params_init
            new = native.ggml_threadpool_new
            self._free = native.ggml_threadpool_free
            self._attach = native.llama_attach_threadpool
            self._detach = native.llama_detach_threadpool
        except AttributeError:
            return
        init.argtypes = [ctypes.POINTER(_ThreadPoolParams), ctypes.c_int]
        init.restype = None
        new.argtypes = [ctypes.POINTER(_ThreadPoolParams)]
        new.restype = ctypes.c_void_p
        self._free.argtypes = [ctypes.c_void_p]
        self._free.restype = None
        self._attach.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p]
        self._attach.restype = None
        self._detach.argtypes = [ctypes.c_void_p]
        self._detach.restype = None
        params = _ThreadPoolParams()
        init(ctypes.byref(params), int(n_threads))
        params.poll = poll
        self.pointer = new(ctypes.byref(params)) or None

    @property
    def ready(self) -> bool:
        return self.pointer is not None

    def attach(self, ctx: Any) -> bool:
        """Use this pool for `ctx`'s generation and prompt evaluation; False without a pool."""
        if self.pointer is None:
            return False
        self._attach(ctx, self.pointer, self.pointer)
        self._ctx = ctx
        return True

    def free(self) -> None:
        """Detach from the context (if still attached) and free the threads. Safe twice."""
        if self._ctx is not None:
            self._detach(self._ctx)
            self._ctx = None
        if self.pointer is not None:
            self._free(self.pointer)
            self.pointer = None
