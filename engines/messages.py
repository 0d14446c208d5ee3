"""Messages for people: every failure llmbench shows is one line.

`one_line` is the one way to turn an error (or any text) into that line; `first_line`
keeps only the first non-empty line of a longer text (a traceback, a log).
"""

from __future__ import annotations


def one_line(message: str | BaseException) -> str:
    """`message` with its whitespace (newlines included) collapsed to single spaces.

    An exception without text gives its class name ("TimeoutError"), never "".
    """
    text = " ".join(str(message).split())
    if not text and isinstance(message, BaseException):
        return type(message).__name__
    return text


def first_line(message: str | BaseException) -> str:
    """The first non-empty line of `message`, stripped; an exception's class name if none."""
    line = next((line.strip() for line in str(message).splitlines() if line.strip()), "")
    if not line and isinstance(message, BaseException):
        return type(message).__name__
    return line
