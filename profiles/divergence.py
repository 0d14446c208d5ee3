"""Where answers part: the first token at which two or more answers to one prompt differ.

Each answer is its recorded tokens (`engines.types.TokenProbabilities`, in order). Two
panes may run different models with different vocabularies, so answers are compared by
their text, not their token ids: the parting point is the first character at which the
answers' texts differ, and in each answer the token that holds that character is where
it parted from the others. For the same model at two temperatures (or two seeds) the
tokens are the same up to that point, so the marker lands on the same token index in
both: the exact token where sampling took them apart.

When the answers come from one model file (`same_vocabulary`), their token ids are
compared instead: the marker lands on the first token the sampler chose differently,
even where two different tokens would spell the same characters for a while.

An answer that is a prefix of another ended there (`AnswerParting.ended`): it has no
token at the parting point. Special tokens (an end-of-turn marker) are not answer text
and are skipped when the texts are joined.

Pure functions, no llama.cpp and no Textual: the workbench's "where answers part"
screen (`tui.screens.answer_parting`) and tests use them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from engines.types import TokenProbabilities


@dataclass(frozen=True)
class AnswerParting:
    """One answer at the parting point."""

    token_index: int | None
    """The index (in the answer's records) of the token holding the first differing
    character; None when the answer ended before it."""
    record: TokenProbabilities | None
    """That token's record (its candidates: what else the sampler could have chosen)."""

    @property
    def ended(self) -> bool:
        """The answer ended at the parting point (the others went on)."""
        return self.record is None


@dataclass(frozen=True)
class Divergence:
    """Where a set of answers part."""

    offset: int
    """The length of the text all answers share (the first differing character's index)."""
    common_text: str
    """That shared text."""
    partings: tuple[AnswerParting, ...]
    """One per answer, in the order given."""


def answer_text(records: Sequence[TokenProbabilities]) -> str:
    """The answer's text as its tokens spell it (special tokens left out)."""
    return "".join(record.text for record in records if not _is_special(record))


def _is_special(record: TokenProbabilities) -> bool:
    for candidate in record.candidates:
        if candidate.token_id == record.token_id:
            return candidate.special
    return False


def _common_prefix_length(texts: Sequence[str]) -> int:
    shortest = min(len(text) for text in texts)
    for index in range(shortest):
        char = texts[0][index]
        if any(text[index] != char for text in texts[1:]):
            return index
    return shortest


def token_at(records: Sequence[TokenProbabilities], offset: int) -> int | None:
    """The index of the record whose text holds character `offset` of the answer text;
    None when the text is shorter. A token that starts exactly at `offset` is chosen over
    the empty ones before it."""
    position = 0
    for index, record in enumerate(records):
        if _is_special(record):
            continue
        end = position + len(record.text)
        if position <= offset < end:
            return index
        position = end
    return None


def find_divergence(
    answers: Sequence[Sequence[TokenProbabilities]], *, same_vocabulary: bool = False
) -> Divergence | None:
    """Where `answers` (two or more) first differ; None when all are the same.

    `same_vocabulary`: the answers come from one model, so compare token ids (see the
    module docstring); else compare text. Raises ValueError for fewer than two answers.
    """
    if len(answers) < 2:
        raise ValueError(f"answers part only between two or more, got {len(answers)}")
    if same_vocabulary:
        return _token_divergence(answers)
    texts = [answer_text(records) for records in answers]
    if all(text == texts[0] for text in texts[1:]):
        return None
    offset = _common_prefix_length(texts)
    partings = []
    for records in answers:
        index = token_at(records, offset)
        partings.append(AnswerParting(index, None if index is None else records[index]))
    return Divergence(offset, texts[0][:offset], tuple(partings))


def _token_divergence(answers: Sequence[Sequence[TokenProbabilities]]) -> Divergence | None:
    ids = [[record.token_id for record in records] for records in answers]
    if all(sequence == ids[0] for sequence in ids[1:]):
        return None
    index = 0
    while all(index < len(sequence) for sequence in ids) and all(
        sequence[index] == ids[0][index] for sequence in ids[1:]
    ):
        index += 1
    common = answer_text(answers[0][:index])
    partings = tuple(
        AnswerParting(index, records[index]) if index < len(records) else AnswerParting(None, None)
        for records in answers
    )
    return Divergence(len(common), common, partings)
