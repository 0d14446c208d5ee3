"""tui.formatting: the one way the TUI and the CLI write counts, sizes and speeds."""

from __future__ import annotations

import pytest

from tui.formatting import (
    UNKNOWN,
    chart_value,
    format_bytes,
    gib,
    number,
    short_count,
    shorten,
    speed,
)


@pytest.mark.parametrize(
    ("count", "text"),
    [
        (None, UNKNOWN),
        (0, UNKNOWN),
        (328, "328"),
        (134_515_008, "135M"),
        (3_212_749_888, "3.2B"),
        (70_553_706_496, "71B"),
        (1_500_000_000_000, "1.5T"),
    ],
)
def test_short_count(count: int | None, text: str) -> None:
    assert short_count(count) == text


def test_short_count_unknown_can_be_chosen() -> None:
    assert short_count(None, unknown="?") == "?"


def test_format_bytes_uses_binary_units_with_one_decimal() -> None:
    sizes = (512, 3712, 98_362_432, 252_706_816, 4_920_734_080)
    expected = ["512 B", "3.6 KiB", "93.8 MiB", "241 MiB", "4.6 GiB"]
    assert [format_bytes(n) for n in sizes] == expected
    assert format_bytes(None) == UNKNOWN
    assert format_bytes(None, unknown="unknown") == "unknown"


def test_numbers_and_speeds_show_a_dash_when_unknown() -> None:
    assert number(None, ".2f", " s") == UNKNOWN
    assert number(0.1234, ".2f", " s") == "0.12 s"
    assert speed(183.44) == "183.4"
    assert speed(None) == UNKNOWN
    assert gib(3 * (1 << 30)) == "3.0"
    assert gib(None) == UNKNOWN


def test_chart_values_drop_decimals_from_100_up() -> None:
    assert chart_value(42.25) == "42.2"
    assert chart_value(1234.5) == "1,234"


def test_shorten_keeps_both_ends() -> None:
    assert shorten("SmolLM2 135M", 28) == "SmolLM2 135M"
    label = "qwen2.5-7b-instruct-q4_k_m.gguf @ 127.0.0.1:33999"
    short = shorten(label, 28)
    assert len(short) == 28 and short.startswith("qwen2.5-7b") and short.endswith("0.1:33999")
    assert "…" in short
    assert shorten("abcdef", 1) == "…"
