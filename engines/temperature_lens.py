"""The temperature lens: a token's candidate probabilities recomputed at another temperature.

Each recorded token (`engines.types.TokenProbabilities`) carries its top candidates by the
model's raw logit (`raw_candidates`). At temperature T the sampler's distribution before
truncation is softmax(logit / T); the lens computes that over those candidates only,
renormalised to sum to 1 among them. So it answers "how would the choice between these
candidates look at T?" exactly for their relative odds; the rest of the vocabulary (and
the top-k / top-p / min-p cut, and the repeat penalty) is left out, which matters little
for the top candidates at low temperatures and more at high ones.

- T → 0 (any T ≤ `GREEDY_TEMPERATURE`): all mass on the highest logit (shared on a tie),
  which is what greedy decoding picks.
- T = 1: the model's own odds between the candidates.
- T large: towards uniform over the candidates.

Pure functions, no llama.cpp: the workbench's token view and the exports can call them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from engines.types import TokenCandidate, TokenProbabilities

GREEDY_TEMPERATURE = 1e-6
"""At or below this temperature the lens is the greedy limit (no division by ~0)."""


def lens_probabilities(candidates: Sequence[TokenCandidate], temperature: float) -> list[float]:
    """softmax(logit / temperature) over `candidates`, in their order; [] for none.

    Raises ValueError for a negative temperature.
    """
    if temperature < 0:
        raise ValueError(f"temperature must be 0 or more, got {temperature}")
    if not candidates:
        return []
    logits = [candidate.logit for candidate in candidates]
    top = max(logits)
    if temperature <= GREEDY_TEMPERATURE:
        winners = [logit == top for logit in logits]
        share = 1.0 / sum(winners)
        return [share if winner else 0.0 for winner in winners]
    weights = [math.exp((logit - top) / temperature) for logit in logits]
    total = sum(weights)
    return [weight / total for weight in weights]


def lens_entropy(candidates: Sequence[TokenCandidate], temperature: float) -> float:
    """The entropy (nats) of `lens_probabilities(candidates, temperature)`."""
    return -sum(p * math.log(p) for p in lens_probabilities(candidates, temperature) if p > 0)


def lens_for_token(
    token: TokenProbabilities, temperature: float
) -> list[tuple[TokenCandidate, float]]:
    """A recorded token's raw candidates, each with its probability at `temperature`."""
    probabilities = lens_probabilities(token.raw_candidates, temperature)
    return list(zip(token.raw_candidates, probabilities, strict=True))
