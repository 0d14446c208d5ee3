"""The JSON export of a comparison's results: the host, the mode and one record per result.

Each record is `profiles.export_fields.result_to_record` (JSON values: unknown figures are
null, lists stay lists), plus the token probabilities when the run recorded them.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from typing import Any

from profiles.atomic import atomic_write_text
from profiles.export_fields import common_mode, result_to_record
from profiles.results import RunResult

EXPORT_VERSION = 1
"""Version of the JSON export's layout (`llmbench_export_version`)."""


def to_json(
    results: Sequence[RunResult], mode: str | None = None, host: dict[str, Any] | None = None
) -> str:
    """`{"host": ..., "mode": ..., "results": [...]}` as indented JSON text."""
    document = {
        "llmbench_export_version": EXPORT_VERSION,
        "host": host if host is not None else (dict(results[0].host) if results else {}),
        "mode": mode or common_mode(results),
        "results": [_json_record(result) for result in results],
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def _json_record(result: RunResult) -> dict[str, Any]:
    """`result_to_record`, plus the token probabilities (`logprobs`) when recorded."""
    record = result_to_record(result)
    if result.logprobs is not None:
        record["logprobs"] = result.logprobs
    return record


def write_json(
    results: Sequence[RunResult], path: str | os.PathLike[str], mode: str | None = None
) -> None:
    """Write `to_json` to `path` atomically."""
    atomic_write_text(path, to_json(results, mode=mode))
