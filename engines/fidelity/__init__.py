"""Fidelity: what quantization costs in quality, measured like llama.cpp's llama-perplexity.

`figures` (the request and the figures, plain data), `stats` (the statistics, pure numpy),
`reference_store` (the reference's top candidates cached on disk), `reference_text` (the
bundled text). The evaluation itself runs in a model's worker:
`engines.local.fidelity_pass`.
"""

from engines.fidelity.figures import DEFAULT_FIDELITY_CTX, FidelityFigures, FidelityRequest

__all__ = ["DEFAULT_FIDELITY_CTX", "FidelityFigures", "FidelityRequest"]
