"""`llmbench run`'s exports: only those asked for are made, and a path that cannot be
written is one line naming it (a usage problem), for the one-prompt and the suite run."""

from __future__ import annotations

from pathlib import Path

import pytest

from tui.commands.export_files import write_exports
from tui.commands.run_usage import UsageProblem


def test_only_the_exports_given_a_path_are_made_and_written(tmp_path: Path) -> None:
    made: list[str] = []

    def document(name: str):
        return lambda: made.append(name) or f"{name} document"

    target = tmp_path / "out.json"
    write_exports(
        {"json_path": str(target), "csv_path": None},
        {"json_path": document("json"), "csv_path": document("csv")},
    )
    assert made == ["json"]
    assert target.read_text() == "json document"


def test_a_path_that_cannot_be_written_is_a_usage_problem_naming_it(tmp_path: Path) -> None:
    blocked = tmp_path / "a-file"
    blocked.write_text("")
    target = blocked / "out.md"  # a file stands where the folder should be
    with pytest.raises(UsageProblem, match=f"cannot write {target}"):
        write_exports({"markdown_path": str(target)}, {"markdown_path": lambda: "# x"})
