"""Standings from blind votes: the figures the quality table shows per model.

This module starts with the plain data only; the vote tally (win rates with a Wilson
interval, Bradley-Terry ratings) lives beside it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Standing:
    """One model's standing over a suite's blind votes."""

    win_rate: float | None
    """Wins (a tie counting half) over votes that involved this model; None without votes."""
    win_low: float | None
    """Lower end of the 95 % Wilson interval of the win rate."""
    win_high: float | None
    """Upper end of the 95 % Wilson interval of the win rate."""
    rating: float | None
    """Bradley-Terry rating; None when fewer than three models were judged."""
    votes: int
    """How many votes involved this model."""
