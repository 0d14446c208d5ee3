"""The local engine against hostile or awkward models: a looping chat template, control
tokens in the answer, a context that fills up before max tokens.

Real-model tests load the demo models (n_ctx 512) once per module.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from gguf_samples import copy_gguf_with_chat_template

from engines.local.chat_template import ChatTemplate, TemplateTimeLimit
from engines.local.engine import EngineError, LlamaEngine
from engines.local.prompt_format import ChatTemplateTooSlow, PromptFormatter
from engines.protocol import TokensGenerated
from engines.types import GenerationRequest, ModelSettings, SamplingParams

LOOPING_TEMPLATE = (
    "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}"
    "{{ messages[0]['content'] }}"
)
"""10^10 loop steps: minutes of a busy core without a time limit."""

LOOPING_WITHOUT_RANGE = (
    "{% set xs = 'ab' * 50000 %}{% for a in xs %}{% for b in xs %}"
    "{{ messages[0]['role'][:0] }}{% endfor %}{% endfor %}"
)
"""Nested loops over a string: no `range`, but an item lookup in every step."""

GREEDY = SamplingParams(temperature=0.0, max_tokens=32, seed=1, repeat_penalty=1.0)


def run(engine: LlamaEngine, prompt: str, sampling: SamplingParams = GREEDY):
    events: list = []
    stats = engine.generate(GenerationRequest(prompt, sampling, request_id="r"), events.append)
    text = "".join(event.text for event in events if isinstance(event, TokensGenerated))
    return text, stats


@pytest.fixture(scope="module")
def gemma(gemma_path: Path):
    engine = LlamaEngine(ModelSettings(path=str(gemma_path), n_ctx=512, n_threads=1))
    engine.load()
    yield engine
    engine.close()


# --- a looping chat template ------------------------------------------------------------


@pytest.mark.timeout(60)
@pytest.mark.parametrize("source", [LOOPING_TEMPLATE, LOOPING_WITHOUT_RANGE])
def test_a_looping_template_stops_at_its_time_limit(source: str) -> None:
    template = ChatTemplate(source, time_limit_s=0.2)
    with pytest.raises(TemplateTimeLimit):
        template.render([{"role": "user", "content": "hi"}])


def test_a_template_within_its_limit_renders_as_llama_cpp_python_does() -> None:
    from llama_cpp.llama_chat_format import Jinja2ChatFormatter

    source = (
        "{{ bos_token }}{% for m in messages %}<|{{ m['role'] }}|>{{ m['content'] }}{{ eos_token }}"
        "{% endfor %}{% if add_generation_prompt %}<|assistant|>{% endif %}"
        "{% for i in range(3) %}{{ i }}{% endfor %}"
    )
    messages = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}]
    ours = ChatTemplate(source, bos_token="<s>", eos_token="</s>").render(messages)
    theirs = Jinja2ChatFormatter(source, eos_token="</s>", bos_token="<s>")(messages=messages)
    assert ours == theirs.prompt


@pytest.mark.timeout(60)
def test_a_looping_template_is_a_one_line_prompt_error() -> None:
    formatter = PromptFormatter(LOOPING_TEMPLATE, time_limit_s=0.2)
    with pytest.raises(ChatTemplateTooSlow) as caught:
        formatter.format("Hello", system_prompt="Be brief.")
    message = str(caught.value)
    assert "\n" not in message and "did not finish rendering within 0.2 s" in message


@pytest.mark.real_model
@pytest.mark.timeout(120)
def test_a_model_with_a_looping_template_fails_to_load_naming_it(
    smollm2_path: Path, tmp_path: Path
) -> None:
    looping = copy_gguf_with_chat_template(smollm2_path, tmp_path / "loops.gguf", LOOPING_TEMPLATE)
    engine = LlamaEngine(ModelSettings(path=str(looping), n_ctx=256, n_threads=1))
    with pytest.raises(EngineError) as caught:
        engine.load()
    message = str(caught.value)
    assert message.startswith("loops.gguf: the chat template did not finish rendering")
    assert "\n" not in message
    assert engine.context is None  # nothing left loaded


# --- control tokens and special markers are not text -------------------------------------


@pytest.mark.real_model
def test_gemma_image_markers_never_reach_the_answer_text(gemma: LlamaEngine) -> None:
    context = gemma.context
    marker = context.tokenize("<start_of_image>", add_special=False, parse_special=True)
    assert len(marker) == 1 and context.is_special(marker[0])
    text, stats = run(gemma, "Here is a photo of my cat:", GREEDY.with_changes(max_tokens=24))
    assert marker[0] in context.pieces  # the model did generate the marker...
    assert "<start_of_image>" not in text and "<end_of_image>" not in text  # ...as no text
    assert stats.stop_reason == "length" and stats.generated_tokens == 24  # skipped, not an end


@pytest.mark.real_model
def test_user_defined_tokens_that_are_text_stay_text(gemma: LlamaEngine) -> None:
    context = gemma.context
    for text in ("<b>", "<table>", "\n\n", "    "):
        (token,) = context.tokenize(text, add_special=False, parse_special=True)
        assert not context.is_special(token)
        assert context.piece(token) == text.encode()


# --- a full context ---------------------------------------------------------------------


@pytest.mark.real_model
def test_a_full_context_has_its_own_stop_reason(gemma: LlamaEngine) -> None:
    prompt = "one two three " * 165
    _, stats = run(gemma, prompt, GREEDY.with_changes(max_tokens=48))
    room = 512 - stats.prompt_tokens
    assert 0 < room < 48
    assert stats.stop_reason == "context_full" and stats.generated_tokens == room


@pytest.mark.real_model
def test_max_tokens_that_exactly_fill_the_context_end_with_length(gemma: LlamaEngine) -> None:
    prompt = "one two three " * 165
    tokens = len(gemma.tokenize(prompt, add_special=True, parse_special=False))
    _, stats = run(gemma, prompt, GREEDY.with_changes(max_tokens=512 - tokens))
    assert stats.prompt_tokens == tokens
    assert stats.stop_reason == "length" and stats.generated_tokens == 512 - tokens
