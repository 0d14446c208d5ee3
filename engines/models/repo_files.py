"""Which files of a Hugging Face repo a model reference means.

A repo of GGUF quants holds many files: one per quant, sometimes split into shards
(`-00001-of-00003.gguf`), sometimes in a folder per quant, often with vision projectors
(`mmproj-*.gguf`) beside them. `select_model_files` picks the files of one model from a
repo's file list (from the Hub, or from a snapshot in the HF cache): by quant, matched
case-insensitively as a whole token of the file name (Q4_K does not match Q4_K_M), or by
file name; every shard of a sharded model.
"""

from __future__ import annotations

import re

from engines.models.gguf_info import SHARD_PATTERN
from engines.models.references import ModelRef, ModelRefError, quant_in_name

DEFAULT_QUANT = "Q4_K_M"
"""The quant chosen for `hf:OWNER/REPO` when the repo has several (llama.cpp's `-hf` default)."""


def is_projector(filename: str) -> bool:
    """Vision projectors (`mmproj-*.gguf`) ship beside models but are not language models."""
    return "mmproj" in filename.rsplit("/", 1)[-1].lower()


def group_models(files: list[str]) -> dict[str, list[str]]:
    """GGUF files of a repo grouped into models: first file → all its files (shards in order)."""
    models: dict[str, list[str]] = {}
    for name in sorted(f for f in files if f.lower().endswith(".gguf") and not is_projector(f)):
        match = SHARD_PATTERN.match(name)
        if match is None:
            models[name] = [name]
            continue
        first = f"{match['stem']}-00001-of-{match['count']}.gguf"
        models.setdefault(first, []).append(name)
    return models


def available_quants(files: list[str]) -> list[str]:
    """The quants a repo's GGUF files name, smallest first (Q2_K … Q8_0, F16), without repeats."""
    quants = {
        quant_in_name(first.rsplit("/", 1)[-1]) or quant_in_name(first)
        for first in group_models(files)
    }
    return sorted((q for q in quants if q), key=_quant_sort_key)


def _quant_sort_key(quant: str) -> tuple[int, str]:
    bits = re.search(r"\d+", quant.removeprefix("UD-"))
    return (int(bits.group()) if bits else 99, quant)


def select_model_files(ref: ModelRef, files: list[str]) -> list[str]:
    """The files (all shards, in order) of the model `ref` names among a repo's `files`.

    Raises ModelRefError (one line) for a repo without GGUF files, a quant it does not
    have (listing those it has), a missing file or shard, or an ambiguous choice.
    """
    repo = ref.repo_id
    models = group_models(files)
    if not models:
        raise ModelRefError(
            f"{repo} has no GGUF files; look for a GGUF version of it (a repo ending in -GGUF)"
        )
    if ref.filename:
        wanted = _first_shard_name(ref.filename)
        if wanted not in models:
            listing = ", ".join(list(models)[:6]) + (", …" if len(models) > 6 else "")
            raise ModelRefError(f"{repo} has no file {ref.filename}; its GGUF files: {listing}")
        return _complete_shards(repo, wanted, models[wanted])
    candidates = _models_for_quant(models, ref.quant)
    if not candidates:
        quants = ", ".join(available_quants(files)) or "none named in the file names"
        if ref.quant is None:
            raise ModelRefError(
                f"{repo} has several GGUF models; name a quant: hf:{repo}:QUANT (it has {quants})"
            )
        raise ModelRefError(f"{repo} has no {ref.quant} GGUF; it has: {quants}")
    if len(candidates) > 1:
        names = ", ".join(candidates[:4])
        raise ModelRefError(
            f"several files of {repo} match {ref.quant}: {names}; name one as hf:{repo}/FILE.gguf"
        )
    return _complete_shards(repo, candidates[0], models[candidates[0]])


def _models_for_quant(models: dict[str, list[str]], quant: str | None) -> list[str]:
    if quant is None:
        if len(models) == 1:
            return list(models)
        quant = DEFAULT_QUANT
    boundary = re.compile(rf"(?<![A-Za-z0-9_]){re.escape(quant)}(?![A-Za-z0-9_])", re.I)
    matching = [first for first in models if boundary.search(first)]
    exact = [
        first
        for first in matching
        if (quant_in_name(first.rsplit("/", 1)[-1]) or "") == quant.upper()
    ]
    return exact if len(matching) > 1 and exact else matching


def _first_shard_name(filename: str) -> str:
    match = SHARD_PATTERN.match(filename)
    return f"{match['stem']}-00001-of-{match['count']}.gguf" if match else filename


def _complete_shards(repo: str | None, first: str, shards: list[str]) -> list[str]:
    match = SHARD_PATTERN.match(first)
    if match is None:
        return [first]
    expected = [
        f"{match['stem']}-{i:05d}-of-{match['count']}.gguf"
        for i in range(1, int(match["count"]) + 1)
    ]
    missing = [name for name in expected if name not in shards]
    if missing:
        raise ModelRefError(
            f"{repo} lacks shard {missing[0]} of {first}; the model is incomplete on the Hub"
        )
    return expected
