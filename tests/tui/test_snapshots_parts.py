"""Snapshot tests of E2's parts at fixed sizes, with fixed data (nothing time-dependent)."""

from __future__ import annotations

from textual.app import App, ComposeResult

from tests.tui.test_comparison_table import FAILED, FAST_SMALL, SLOW_LARGE
from tui.widgets.comparison_table import ComparisonTable


class ComparisonApp(App):
    def compose(self) -> ComposeResult:
        yield ComparisonTable([FAST_SMALL, SLOW_LARGE, FAILED])


def test_comparison_table_wide(snap_compare):
    assert snap_compare(ComparisonApp(), terminal_size=(120, 24))


def test_comparison_table_80x24(snap_compare):
    assert snap_compare(ComparisonApp(), terminal_size=(80, 24))
