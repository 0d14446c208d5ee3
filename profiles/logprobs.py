"""Token probabilities in exports: OpenAI's `logprobs` shape, and the answer's summary.

`llmbench run --logprobs N` records, for every generated token of a local pane, the
chosen token and its top N candidates as the sampler saw them
(`engines.types.TokenProbabilities`). The JSON export writes them as OpenAI's chat
completion `logprobs` object, so tools that read OpenAI's format read ours:

    {"content": [{"token": " the", "logprob": -0.31, "bytes": [32, 116, 104, 101],
                  "top_logprobs": [{"token": " the", "logprob": -0.31, "bytes": [...]},
                                   ...]}, ...]}

A log-probability is ln of the sampler's probability (after top-k, top-p, min-p and
temperature), so it depends on the sampling values, unlike OpenAI's; a candidate the
sampler cut has probability 0, written as `engines.types.LOGPROB_FLOOR` (-9999.0, as
OpenAI writes it). Each entry also carries llmbench's `rank` and the raw-logit candidates
(`top_logits`, for the temperature lens), which OpenAI readers ignore.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from engines.types import LOGPROB_FLOOR, TokenCandidate, TokenProbabilities


def openai_logprobs(records: Sequence[TokenProbabilities], top: int) -> dict[str, Any]:
    """OpenAI's `logprobs` object for an answer's token records, `top` candidates each."""
    return {"content": [_token_entry(record, top) for record in records]}


def _token_entry(record: TokenProbabilities, top: int) -> dict[str, Any]:
    return {
        "token": record.text,
        "logprob": _rounded(record.logprob),
        "bytes": list(record.text.encode("utf-8")),
        "top_logprobs": [_candidate_entry(c) for c in record.candidates[:top]],
        "rank": record.rank,
        "top_logits": [
            {"token": c.text, "logit": round(c.logit, 4)} for c in record.raw_candidates[:top]
        ],
    }


def _candidate_entry(candidate: TokenCandidate) -> dict[str, Any]:
    probability = candidate.probability
    logprob = math.log(probability) if probability > 0 else LOGPROB_FLOOR
    return {
        "token": candidate.text,
        "logprob": _rounded(logprob),
        "bytes": list(candidate.text.encode("utf-8")),
    }


def _rounded(value: float) -> float:
    return round(value, 6)
