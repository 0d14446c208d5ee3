"""Token probabilities from a server: OpenAI's `logprobs` / `top_logprobs`, as records.

llama.cpp's llama-server and vLLM answer a chat completion's `logprobs: true,
top_logprobs: N` with, per generated token, the chosen token's log-probability and its
top N candidates (`choices[i].logprobs.content[j]` in each streamed chunk). This module
asks for them (`LOGPROB_SERVERS`, `logprob_fields`) and turns each entry into the same
record a local model sends (`engines.types.TokenProbabilities`), so the token view, the
summary figures and the exports read servers and local models alike.

What a server does not send stays out: token ids (each distinct token text gets a
stable id of its own within one answer), raw logits (`raw_candidates` is empty: no
temperature lens for a server token), and the rest of the vocabulary (the entropy is
over the listed candidates only, a lower bound of the distribution's). The
probabilities are the server's: llama-server's after its sampler chain, vLLM's those of
the model's own distribution, as each documents.
"""

from __future__ import annotations

import math
from typing import Any

from engines.types import (
    MAX_TOP_CANDIDATES,
    TokenCandidate,
    TokenProbabilities,
    answer_summary,
)

LOGPROB_SERVERS = frozenset({"llama.cpp", "llama-cpp-python", "vllm", "openai"})
"""Kinds of server (`engines.remote.client.server_kind`) known to answer `logprobs`."""


def logprob_fields(top_candidates: int) -> dict[str, Any]:
    """The request fields that ask for token probabilities (none for 0)."""
    if top_candidates <= 0:
        return {}
    return {"logprobs": True, "top_logprobs": min(top_candidates, MAX_TOP_CANDIDATES)}


class LogprobReader:
    """Turns the `logprobs.content` entries of one answer into token records, in order."""

    def __init__(self, temperature: float) -> None:
        self.temperature = temperature
        self.records: list[TokenProbabilities] = []
        self._ids: dict[str, int] = {}

    def take(self, logprobs: Any) -> list[TokenProbabilities]:
        """The records of one chunk's `logprobs` object (entries that are not well formed
        are skipped: a server's optional extra never fails an answer)."""
        if not isinstance(logprobs, dict) or not isinstance(logprobs.get("content"), list):
            return []
        taken = []
        for entry in logprobs["content"]:
            record = self._record(entry)
            if record is not None:
                self.records.append(record)
                taken.append(record)
        return taken

    def summary(self) -> tuple[float | None, float | None, float | None]:
        """(mean log-probability, perplexity, mean entropy) of the answer; Nones without records."""
        return answer_summary(self.records)

    def _id(self, text: str) -> int:
        return self._ids.setdefault(text, len(self._ids))

    def _record(self, entry: Any) -> TokenProbabilities | None:
        if not isinstance(entry, dict):
            return None
        text, logprob = entry.get("token"), entry.get("logprob")
        if not isinstance(text, str) or not isinstance(logprob, int | float):
            return None
        probability = math.exp(min(float(logprob), 0.0))
        candidates = []
        for top in entry.get("top_logprobs") or []:
            if isinstance(top, dict) and isinstance(top.get("token"), str):
                value = top.get("logprob")
                if isinstance(value, int | float):
                    p = math.exp(min(float(value), 0.0))
                    candidates.append(
                        TokenCandidate(self._id(top["token"]), top["token"], p, value)
                    )
        candidates.sort(key=lambda candidate: -candidate.probability)
        chosen = self._id(text)
        ranks = [n for n, c in enumerate(candidates) if c.token_id == chosen]
        rank = ranks[0] + 1 if ranks else len(candidates) + 1
        entropy = -sum(c.probability * math.log(c.probability) for c in candidates if c.probability)
        return TokenProbabilities(
            index=len(self.records),
            token_id=chosen,
            text=text,
            probability=probability,
            rank=rank,
            logit=float(logprob),
            candidates=tuple(candidates),
            raw_candidates=(),
            entropy=entropy,
            kept=len(candidates),
            temperature=self.temperature,
        )
