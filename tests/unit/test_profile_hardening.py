"""Profiles that are hostile or odd on disk, keys in the wrong table, and comments kept on save."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from profiles.errors import ProfileError
from profiles.store import (
    bundled_dir,
    default_path,
    list_profiles,
    load_profile,
    load_profile_file,
    parse_profile_text,
    profiles_dir,
    save_profile,
)

DEEP = "a = " + "[" * 500 + "]" * 500 + "\n"
"""About 1 KB that makes tomllib recurse past Python's limit."""

ONE_MIB = 1 << 20
"""profiles.store.MAX_PROFILE_BYTES."""

GOOD = 'name = "mine"\n[[panes]]\nmodel = "demo:smollm2-135m"\n'


def user_file(name: str) -> Path:
    profiles_dir().mkdir(parents=True, exist_ok=True)
    return profiles_dir() / name


# --- Parse failures are one ProfileError naming the file ---------------------------------


@pytest.mark.parametrize(
    "text",
    [DEEP, "a = " + "{b = " * 500 + "1" + "}" * 500 + "\n"],
    ids=["arrays", "inline-tables"],
)
def test_deeply_nested_toml_is_one_line_naming_the_file(text: str) -> None:
    path = user_file("deep.toml")
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ProfileError) as caught:
        load_profile_file(path)
    assert str(caught.value) == (
        f"{path}: malformed TOML: arrays or tables nested too deeply to be a profile"
    )
    entry = next(e for e in list_profiles() if e.name == "deep")
    assert entry.error and "nested too deeply" in entry.error


def test_a_directory_named_like_a_profile_is_listed_with_what_is_wrong() -> None:
    user_file("folder.toml").mkdir()
    entry = next(e for e in list_profiles() if e.name == "folder")
    assert entry.error == "is a directory, not a profile file"
    with pytest.raises(ProfileError, match="folder.toml: is a directory, not a profile file"):
        load_profile("folder")


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="no /dev/zero here")
def test_a_link_to_a_device_is_listed_and_never_read() -> None:
    user_file("zero.toml").symlink_to("/dev/zero")
    entry = next(e for e in list_profiles() if e.name == "zero")
    assert entry.error == "is a character device, not a profile file"


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_a_fifo_is_listed_without_blocking() -> None:
    os.mkfifo(user_file("pipe.toml"))
    result: list = []
    lister = threading.Thread(target=lambda: result.append(list_profiles()), daemon=True)
    lister.start()
    lister.join(timeout=30)
    assert result, "listing the profiles blocked on a FIFO"
    entry = next(e for e in result[0] if e.name == "pipe")
    assert entry.error == "is a named pipe (FIFO), not a profile file"


def test_a_huge_file_is_refused_unread() -> None:
    path = user_file("huge.toml")
    path.write_text(GOOD + "#" * ONE_MIB + "\n", encoding="utf-8")
    with pytest.raises(ProfileError, match=r"too large for a profile \(1\.0 MiB; at most 1 MiB\)"):
        load_profile_file(path)


# --- Keys in the wrong table say where they belong ----------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            'name = "x"\n[[panes]]\nmodel = "a"\ntemperature = 0.5\n',
            "panes[0].temperature: unknown key here; it belongs in [panes.sampling]",
        ),
        (
            'name = "x"\n[[panes]]\nmodel = "a"\nn_ctx = 512\n',
            "panes[0].n_ctx: unknown key here; it belongs in [panes.settings]",
        ),
        (
            'name = "x"\nn_gpu_layers = 5\n[[panes]]\nmodel = "a"\n',
            "n_gpu_layers: unknown key here; it belongs in [panes.settings]",
        ),
        (
            'name = "x"\ntemperature = 0.5\n[[panes]]\nmodel = "a"\n',
            "temperature: unknown key here; it belongs in [sampling] or in [panes.sampling]",
        ),
        (
            'name = "x"\n[sampling]\nprompt = "hi"\n[[panes]]\nmodel = "a"\n',
            "sampling.prompt: unknown key here; it belongs at the top level (before the first [table])",
        ),
        (
            'name = "x"\n[sampling]\nmodel = "a"\n',
            "sampling.model: unknown key here; it belongs in [[panes]]",
        ),
    ],
)
def test_a_key_in_the_wrong_table_says_where_it_belongs(text: str, expected: str) -> None:
    with pytest.raises(ProfileError) as caught:
        parse_profile_text(text, source="p.toml")
    assert f"p.toml: {expected}" in caught.value.all_lines()


# --- Saving keeps the person's comments -----------------------------------------------------

COMMENTED = """\
# My comparison: why I keep it.
version = 1
name = "mine"      # the file name too
prompt = "Hello"

[sampling]         # what every pane uses
temperature = 0.5  # warm enough
# seed = 1         (tried it, did not help)

# The small one first.
[[panes]]
model = "demo:smollm2-135m"  # fast
[panes.sampling]
temperature = 0.2  # focused

[[panes]]
model = "demo:gemma3-270m"
"""


def test_saving_keeps_comments_and_writes_only_what_changed() -> None:
    path = user_file("mine.toml")
    path.write_text(COMMENTED, encoding="utf-8")
    profile = load_profile("mine")
    panes = [
        profile.panes[0].model_copy(
            update={"sampling": profile.panes[0].sampling.model_copy(update={"temperature": 0.3})}
        ),
        profile.panes[1],
    ]
    changed = profile.model_copy(update={"prompt": "Hi\nthere", "panes": panes})
    assert save_profile(changed) == path
    text = path.read_text(encoding="utf-8")
    assert load_profile("mine") == changed
    for kept in (
        "# My comparison: why I keep it.\n",
        'name = "mine"      # the file name too\n',
        "[sampling]         # what every pane uses\n",
        "temperature = 0.5  # warm enough\n",
        "# seed = 1         (tried it, did not help)\n",
        "# The small one first.\n",
        'model = "demo:smollm2-135m"  # fast\n',
        "temperature = 0.3  # focused\n",
    ):
        assert kept in text
    assert 'prompt = """Hi\nthere"""' in text
    assert "n_ctx" not in text and "top_k" not in text, "defaults the file left out stay out"


def test_saving_a_removed_pane_and_override_removes_them_and_keeps_the_rest() -> None:
    path = user_file("mine.toml")
    path.write_text(COMMENTED, encoding="utf-8")
    profile = load_profile("mine")
    first = profile.panes[0].model_copy(update={"sampling": type(profile.panes[0].sampling)()})
    changed = profile.model_copy(update={"panes": [first]})
    save_profile(changed)
    text = path.read_text(encoding="utf-8")
    assert load_profile("mine") == changed
    assert "gemma3" not in text and "[panes.sampling]" not in text
    assert "# My comparison: why I keep it.\n" in text and "# fast" in text


def test_a_user_copy_of_a_bundled_profile_keeps_its_explanation() -> None:
    bundled = load_profile("small-vs-large")
    saved = save_profile(bundled.model_copy(update={"prompt": "Mine"}))
    assert saved == default_path("small-vs-large")
    text = saved.read_text(encoding="utf-8")
    assert text.startswith("# small-vs-large:") and "What it shows" in text
    assert load_profile("small-vs-large").prompt == "Mine"
    assert (bundled_dir() / "small-vs-large.toml").read_text(encoding="utf-8") != text
