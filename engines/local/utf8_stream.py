"""UTF-8-correct text from a stream of token byte pieces.

Byte-level tokenizers split multi-byte characters (emoji, CJK, accented letters) across
tokens. `Utf8Stream` holds back an incomplete sequence until the bytes that finish it
arrive, so a split character never shows as U+FFFD or garbage. Bytes that can never form
a character (a truly invalid sequence) still become U+FFFD, as they should.
"""

from __future__ import annotations

import codecs


class Utf8Stream:
    """Turns token pieces (bytes) into text, holding back incomplete characters.

    >>> stream = Utf8Stream()
    >>> stream.feed(b"caf\\xc3")
    'caf'
    >>> stream.feed(b"\\xa9!")
    'é!'
    """

    __slots__ = ("_decoder",)

    def __init__(self) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")

    def feed(self, piece: bytes) -> str:
        """The text that is complete after adding `piece` (possibly empty)."""
        return self._decoder.decode(piece)

    @property
    def pending_bytes(self) -> int:
        """How many bytes are held back waiting for the rest of their character."""
        return len(self._decoder.getstate()[0])

    def discard_pending(self) -> int:
        """Drop an unfinished character at the end of a generation; returns the bytes dropped.

        A generation cut off mid-character (max tokens, cancel) shows nothing for it rather
        than a replacement character.
        """
        dropped = self.pending_bytes
        self._decoder.reset()
        return dropped
