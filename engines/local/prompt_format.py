"""The text a model is prompted with: through its chat template, or raw for base models.

A GGUF with `tokenizer.chat_template` is a chat model: the user's prompt (and optional
system prompt) are rendered through that Jinja template, with the generation prompt added,
exactly as the model was trained to see them. A GGUF without one (a base model such as the
Gemma 3 270M demo) gets the raw prompt as a completion; a system prompt, if given, is put
before it, separated by a blank line.

The template renders in a sandbox with a time limit (`engines.local.chat_template`): a
template that loops ends in `ChatTemplateTooSlow` instead of keeping a core busy.
"""

from __future__ import annotations

from dataclasses import dataclass

from engines.local.chat_template import RENDER_TIME_LIMIT_S, ChatTemplate, TemplateTimeLimit
from engines.messages import one_line
from engines.types import PromptMode


class PromptFormatError(ValueError):
    """The chat template could not render the prompt. str(e) is one line."""


class ChatTemplateTooSlow(PromptFormatError):
    """The chat template did not finish rendering within its time limit (it loops)."""


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

    def __init__(
        self,
        chat_template: str | None,
        bos_token: str = "",
        eos_token: str = "",
        time_limit_s: float = RENDER_TIME_LIMIT_S,
    ) -> None:
        self.mode: PromptMode = "chat" if chat_template else "completion"
        self._chat_template = chat_template
        self._bos_token = bos_token
        self._eos_token = eos_token
        self._time_limit_s = time_limit_s
        self._template: ChatTemplate | None = None

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
        except ChatTemplateTooSlow:
            raise
        except Exception as error:  # a Jinja template may raise anything
            if not system_prompt:
                raise PromptFormatError(f"the chat template failed: {one_line(error)}") from error
            # Some templates refuse a system role; the usual fallback is to prepend it.
            merged = [{"role": "user", "content": f"{system_prompt}\n\n{prompt}"}]
            try:
                text = self._render(merged)
            except ChatTemplateTooSlow:
                raise
            except Exception as second:
                raise PromptFormatError(f"the chat template failed: {one_line(second)}") from second
        return FormattedPrompt(text, "chat", add_special=False, parse_special=True)

    def _render(self, messages: list[dict[str, str]]) -> str:
        if self._template is None:
            self._template = ChatTemplate(
                self._chat_template or "",
                bos_token=self._bos_token,
                eos_token=self._eos_token,
                time_limit_s=self._time_limit_s,
            )
        try:
            return self._template.render(messages)
        except TemplateTimeLimit:
            raise ChatTemplateTooSlow(
                f"the chat template did not finish rendering within {self._time_limit_s:g} s "
                "(it loops or is far too slow); fix tokenizer.chat_template in the GGUF"
            ) from None
