"""Suite files and [[prompts]] (profiles.suite): JSONL, paragraphs, and one-line refusals."""

from __future__ import annotations

from pathlib import Path

import pytest

from profiles.store import parse_profile_text
from profiles.suite import SuiteError, read_suite_file, suite_of


def test_jsonl_reads_objects_strings_comments_and_checks(tmp_path: Path) -> None:
    path = tmp_path / "tasks.jsonl"
    path.write_text(
        "// a comment line\n"
        '{"id": "add", "text": "2+2?", "system": "Be brief.", "expect": {"contains": "4"}}\n'
        "\n"
        '"Name a colour."\n',
        encoding="utf-8",
    )
    suite = read_suite_file(path)
    assert suite.name == "tasks"
    assert suite.ids == ["add", "p2"]
    assert suite.prompts[0].system == "Be brief."
    assert suite.prompts[1].text == "Name a colour."
    assert suite.check_count == 1


def test_text_file_has_one_prompt_per_paragraph(tmp_path: Path) -> None:
    path = tmp_path / "prompts.txt"
    path.write_text("First prompt\nstill the first.\n\n\nSecond prompt.\n", encoding="utf-8")
    suite = read_suite_file(path)
    assert [p.text for p in suite.prompts] == ["First prompt\nstill the first.", "Second prompt."]


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ('{"text": "ok"', "not valid JSON"),
        ("[1, 2]", 'expected an object with a "text" key'),
        ('{"prompt": "wrong key"}', "unknown key"),
        ('{"text": "x", "expect": {"regex": "(bad"}}', "not a valid regular expression"),
        ('{"text": ""}', "text"),
    ],
)
def test_a_bad_line_is_one_line_naming_the_file_and_line(
    tmp_path: Path, line: str, reason: str
) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text('{"text": "fine"}\n\n' + line + "\n", encoding="utf-8")
    with pytest.raises(SuiteError) as caught:
        read_suite_file(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: line 3: ")
    assert reason in message
    assert "\n" not in message


def test_duplicate_ids_empty_missing_and_binary_files_are_refused(tmp_path: Path) -> None:
    dup = tmp_path / "dup.jsonl"
    dup.write_text('{"id": "a", "text": "x"}\n{"id": "a", "text": "y"}\n', encoding="utf-8")
    with pytest.raises(SuiteError, match="id 'a' is used twice"):
        read_suite_file(dup)
    empty = tmp_path / "empty.txt"
    empty.write_text("\n\n", encoding="utf-8")
    with pytest.raises(SuiteError, match="no prompts"):
        read_suite_file(empty)
    with pytest.raises(SuiteError, match="cannot read the suite file"):
        read_suite_file(tmp_path / "missing.jsonl")
    binary = tmp_path / "bin.txt"
    binary.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(SuiteError, match="not UTF-8"):
        read_suite_file(binary)


PROFILE = """
name = "s"
{top}
[[panes]]
model = "demo:smollm2-135m"
"""


def test_profile_inline_prompts_and_prompts_file_beside_the_profile(tmp_path: Path) -> None:
    inline = parse_profile_text(
        PROFILE.format(top="") + '[[prompts]]\ntext = "Hi"\nid = "hi"\nexpect = {max_words = 3}\n'
    )
    suite = suite_of(inline)
    assert suite is not None and suite.ids == ["hi"] and suite.prompts[0].expect.max_words == 3
    (tmp_path / "tasks.jsonl").write_text('{"text": "from file"}\n', encoding="utf-8")
    with_file = parse_profile_text(PROFILE.format(top='prompts_file = "tasks.jsonl"'))
    suite = suite_of(with_file, profile_dir=tmp_path)
    assert suite is not None and suite.prompts[0].text == "from file"
    assert suite_of(parse_profile_text(PROFILE.format(top=""))) is None


def test_a_profile_cannot_hold_both_kinds_of_suite() -> None:
    from profiles.errors import ProfileError

    with pytest.raises(ProfileError, match="either \\[\\[prompts\\]\\] or prompts_file"):
        parse_profile_text(
            PROFILE.format(top='prompts_file = "x.jsonl"') + '[[prompts]]\ntext = "Hi"\n'
        )


def test_the_bundled_suite_loads_with_a_dozen_checked_prompts() -> None:
    from profiles.store import load_profile, resolve_profile

    profile = load_profile("suite-small-vs-large")
    suite = suite_of(profile, resolve_profile("suite-small-vs-large").parent)
    assert suite is not None and len(suite.prompts) == 12
    assert all(prompt.expect is not None and not prompt.expect.empty for prompt in suite.prompts)
