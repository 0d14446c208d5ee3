"""A GGUF's chat template, rendered in a Jinja sandbox with a time limit.

A chat template is code from the model file. One that loops (e.g. two nested
`range(100000)` loops) would keep a core busy for minutes at load (the warm-up renders a
prompt) and on every run, and nothing could stop it: a render cannot be interrupted from
outside. So the template renders in Jinja's immutable sandbox (as llama-cpp-python
renders it) with a deadline that the render itself checks as it goes: at every step of a
`range`, every call and every attribute or item lookup, i.e. inside every loop a
template can write. Past the deadline the render stops with `TemplateTimeLimit`.

The render's variables are those llama-cpp-python passes (`messages`, `bos_token`,
`eos_token`, `add_generation_prompt`, `raise_exception`, `strftime_now`, ...), so any
template that works there works here.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import jinja2
from jinja2.sandbox import ImmutableSandboxedEnvironment, safe_range

RENDER_TIME_LIMIT_S = 2.0
"""The longest a chat template may take to render one prompt (real templates take ms)."""

_CHECK_EVERY = 256
"""A `range` loop looks at the clock once every this many steps."""


class TemplateTimeLimit(Exception):
    """The chat template did not finish within its time limit (it probably loops)."""


class _TimeLimitedEnvironment(ImmutableSandboxedEnvironment):
    """Jinja's immutable sandbox, with a deadline checked inside every loop of a render."""

    def __init__(self) -> None:
        super().__init__(loader=jinja2.BaseLoader(), trim_blocks=True, lstrip_blocks=True)
        self.deadline = float("inf")
        self.globals["range"] = self._range

    def check_deadline(self) -> None:
        if time.perf_counter() > self.deadline:
            raise TemplateTimeLimit

    def _range(self, *args: int) -> Iterator[int]:
        numbers = safe_range(*args)  # the sandbox's own size limit still applies
        check = self.check_deadline
        for index, number in enumerate(numbers):
            if index % _CHECK_EVERY == 0:
                check()
            yield number

    def call(self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        self.check_deadline()
        return super().call(__context, __obj, *args, **kwargs)

    def getattr(self, obj: Any, attribute: str) -> Any:
        self.check_deadline()
        return super().getattr(obj, attribute)

    def getitem(self, obj: Any, argument: Any) -> Any:
        self.check_deadline()
        return super().getitem(obj, argument)


class ChatTemplate:
    """One chat template, compiled once, rendering prompts within `time_limit_s`."""

    def __init__(
        self,
        source: str,
        bos_token: str = "",
        eos_token: str = "",
        time_limit_s: float = RENDER_TIME_LIMIT_S,
    ) -> None:
        """Compile `source`; raises jinja2.TemplateError for a template that does not parse."""
        self.time_limit_s = time_limit_s
        self._bos_token = bos_token
        self._eos_token = eos_token
        self._environment = _TimeLimitedEnvironment()
        self._template = self._environment.from_string(source)

    def render(self, messages: list[dict[str, str]]) -> str:
        """The prompt text for `messages`, generation prompt added.

        Raises TemplateTimeLimit past the time limit, or whatever the template raises.
        """
        environment = self._environment
        environment.deadline = time.perf_counter() + self.time_limit_s
        try:
            return self._template.render(
                messages=messages,
                eos_token=self._eos_token,
                bos_token=self._bos_token,
                raise_exception=_raise_exception,
                add_generation_prompt=True,
                functions=None,
                function_call=None,
                tools=None,
                tool_choice=None,
                strftime_now=_strftime_now,
            )
        finally:
            environment.deadline = float("inf")


def _raise_exception(message: str) -> None:
    raise ValueError(message)


def _strftime_now(format_: str) -> str:
    return datetime.now().strftime(format_)
