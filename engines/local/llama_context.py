"""A loaded model and its llama.cpp context: what the engine loads and the token loop works on.

`LlamaContext` holds llama.cpp's handles (library, model, context, vocabulary, memory),
the sizes read from them once, the cache of token pieces and the tokens whose keys and
values are in llama.cpp's memory now (the prompt cache). `engines.local.engine.LlamaEngine`
creates it at load; `engines.local.token_loop` reads and updates it per generation.
"""

from __future__ import annotations

import ctypes
import re
from typing import Any

from engines.messages import one_line

_CONTROL_ATTRIBUTES = 0x2 | 0x8  # LLAMA_TOKEN_ATTR_UNUSED | LLAMA_TOKEN_ATTR_CONTROL
_USER_DEFINED_ATTRIBUTE = 0x10  # LLAMA_TOKEN_ATTR_USER_DEFINED

MARKER_TEXT = re.compile(r"<[A-Za-z0-9]+(?:_[A-Za-z0-9]+)+>|\[[a-z]+\]")
"""The text of a special marker that a tokenizer files as user-defined rather than control
(Gemma 3: `<start_of_image>`, `<end_of_image>`, `[multimodal]`). Real user-defined text
(Gemma's `<b>`, `<table>`, runs of spaces or newlines) never matches: it has no `_`."""


class EngineError(Exception):
    """Load or generation failed. str(e) is one line naming the file and the problem."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(reason)
        self.reason = one_line(reason)
        self.detail = detail

    def __str__(self) -> str:
        return self.reason


class LlamaContext:
    """One model loaded in llama.cpp with its context, ready to evaluate tokens."""

    def __init__(self, lib: Any, model: Any, ctx: Any, file_name: str) -> None:
        self.lib = lib
        """The `llama_cpp` module (its C API bindings)."""
        self.threadpool: Any = None
        """The CPU thread pool attached to the context (`attach_threadpool`), if any."""
        self.model = model
        self.ctx = ctx
        self.file_name = file_name
        """The model file's name, for messages."""
        self.memory = lib.llama_get_memory(ctx)
        self.vocab = lib.llama_model_get_vocab(model)
        self.n_ctx: int = lib.llama_n_ctx(ctx)
        self.n_batch: int = lib.llama_n_batch(ctx)
        self.n_vocab: int = lib.llama_vocab_n_tokens(self.vocab)
        self.n_swa: int = lib.llama_model_n_swa(model) if hasattr(lib, "llama_model_n_swa") else 0
        """The sliding-window size of models that forget old positions (0: none)."""
        self.pieces: dict[int, bytes | None] = {}
        """Token → its text bytes, or None for an end-of-generation token; filled lazily."""
        self.cached_tokens: list[int] = []
        """The tokens whose keys/values are in llama.cpp's memory right now, in order."""
        self._piece_buffer = ctypes.create_string_buffer(64)

    # --- tokens ---------------------------------------------------------------------

    def tokenize(self, text: str, add_special: bool, parse_special: bool) -> list[int]:
        """The tokens of `text` (BOS added when `add_special` and the model wants it)."""
        lib = self.lib
        data = text.encode("utf-8")
        capacity = len(data) + 8
        buffer = (lib.llama_token * capacity)()
        count = lib.llama_tokenize(
            self.vocab, data, len(data), buffer, capacity, add_special, parse_special
        )
        if count < 0:
            capacity = -count
            buffer = (lib.llama_token * capacity)()
            count = lib.llama_tokenize(
                self.vocab, data, len(data), buffer, capacity, add_special, parse_special
            )
        return list(buffer[:count])

    def piece(self, token: int) -> bytes | None:
        """The token's text bytes in an answer, or None if it ends generation.

        Control and special-marker tokens are not text: they are skipped (empty bytes) and
        generation goes on, as llama.cpp does for a token that is not end-of-generation
        (`is_special`). Remembered in `pieces`, so the token loop looks each token up once.
        """
        lib = self.lib
        if lib.llama_vocab_is_eog(self.vocab, token):
            piece = None
        elif self.is_special(token):
            piece = b""
        else:
            buffer = self._piece_buffer
            length = lib.llama_token_to_piece(self.vocab, token, buffer, len(buffer), 0, False)
            if length < 0:
                self._piece_buffer = buffer = ctypes.create_string_buffer(-length)
                length = lib.llama_token_to_piece(self.vocab, token, buffer, len(buffer), 0, False)
            piece = buffer.raw[:length]
        self.pieces[token] = piece
        return piece

    def is_special(self, token: int) -> bool:
        """Whether a token is a control token or a special marker rather than text.

        Control (and unused) tokens by their attribute; markers that the tokenizer files as
        user-defined by their text (`MARKER_TEXT`), e.g. Gemma 3's `<start_of_image>`.
        """
        attributes = self.lib.llama_vocab_get_attr(self.vocab, token)
        if attributes & _CONTROL_ATTRIBUTES:
            return True
        if attributes & _USER_DEFINED_ATTRIBUTE:
            return MARKER_TEXT.fullmatch(self.token_text(token)) is not None
        return False

    def token_text(self, token: int) -> str:
        """The vocabulary's text of a token ("" for none), e.g. the BOS token's "<s>"."""
        if token < 0:
            return ""
        text = self.lib.llama_vocab_get_text(self.vocab, token)
        return text.decode("utf-8", errors="replace") if text else ""

    # --- evaluation -----------------------------------------------------------------

    def decode(self, tokens: list[int]) -> None:
        """Evaluate `tokens` after what is in memory (one llama_decode call)."""
        lib = self.lib
        array = (lib.llama_token * len(tokens))(*tokens)
        result = lib.llama_decode(self.ctx, lib.llama_batch_get_one(array, len(tokens)))
        if result != 0:
            raise EngineError(
                f"{self.file_name}: llama.cpp could not evaluate {len(tokens)} tokens "
                f"(llama_decode returned {result})"
            )

    def forget(self) -> None:
        """Clear llama.cpp's memory (the next prompt is evaluated in full)."""
        self.lib.llama_memory_clear(self.memory, True)
        self.cached_tokens = []

    def attach_threadpool(self, pool: Any) -> None:
        """Evaluate on `pool` (an `engines.local.threadpool.CpuThreadPool`), freed with the
        context, instead of threads created anew for every evaluation."""
        if pool.attach(self.ctx):
            self.threadpool = pool
        else:
            pool.free()

    def free(self) -> None:
        """Free the context, its thread pool and the model. Safe to call twice."""
        lib = self.lib
        pool, self.threadpool = self.threadpool, None
        if pool is not None:
            pool.free()
        if self.ctx is not None:
            lib.llama_free(self.ctx)
            self.ctx = None
        if self.model is not None:
            lib.llama_model_free(self.model)
            self.model = None
        self.memory = None
        self.cached_tokens = []
