"""The text a model is prompted with: through its chat template, or raw for base models.

A GGUF with `tokenizer.chat_template` is a chat model: the user's prompt (and optional
system prompt) are rendered through that Jinja template, with the generation prompt added,
exactly as the model was trained to see them. A GGUF without one (a base model such as the
Gemma 3 270M demo) gets the raw prompt as a completion; a system prompt, if given, is put
before it, separated by a blank line.
"""

from __future__ import annotations

from dataclasses import dataclass

from engines.messages import one_line
from engines.types import PromptMode


class PromptFormatError(ValueError):
    """The chat template could not render the prompt. str(e) is one line."""


@dataclass(frozen=True)
class FormattedPrompt:
    """The prompt text and how to tokenize it."""

    text: str
    mode: PromptMode
    add_special: bool
    """Let the tokenizer add BOS (raw completions); False when the template wrote it."""
    parse_special: bool
    """Turn special-token text (e.g. `<|im_start|>`) into special tokens (chat templates)."""


class PromptFormatter:
    """Formats prompts for one model, from its chat template (or none)."""

    def __init__(self, chat_template: str | None, bos_token: str = "", eos_token: str = "") -> None:
        self.mode: PromptMode = "chat" if chat_template else "completion"
        self._chat_template = chat_template
        self._bos_token = bos_token
        self._eos_token = eos_token
        self._formatter = None

    def format(self, prompt: str, system_prompt: str | None = None) -> FormattedPrompt:
        """The prompt as the model should see it."""
        if self.mode == "completion":
            text = f"{system_prompt}\n\n{prompt}" if system_prompt else prompt
            return FormattedPrompt(text, "completion", add_special=True, parse_special=False)
        messages = [{"role": "user", "content": prompt}]
        if system_prompt:
            messages.insert(0, {"role": "system", "content": system_prompt})
        try:
            text = self._render(messages)
        except Exception as error:  # a Jinja template may raise anything
            if not system_prompt:
                raise PromptFormatError(f"the chat template failed: {one_line(error)}") from error
            # Some templates refuse a system role; the usual fallback is to prepend it.
            merged = [{"role": "user", "content": f"{system_prompt}\n\n{prompt}"}]
            try:
                text = self._render(merged)
            except Exception as second:
                raise PromptFormatError(
                    f"the chat template failed: {one_line(second)}"
                ) from second
        return FormattedPrompt(text, "chat", add_special=False, parse_special=True)

    def _render(self, messages: list[dict[str, str]]) -> str:
        if self._formatter is None:
            from llama_cpp.llama_chat_format import Jinja2ChatFormatter

            self._formatter = Jinja2ChatFormatter(
                template=self._chat_template or "",
                eos_token=self._eos_token,
                bos_token=self._bos_token,
                add_generation_prompt=True,
            )
        return self._formatter(messages=messages).prompt


