"""The workbench's "Blind vote" action (palette entry and the v key): judge this prompt's answers.

It takes each pane's answer to the suite prompt the workbench shows (`n` / `N`), or else
the latest finished answer of each pane (`WorkbenchApp.results`; a stopped or failed
run is not judged) to the prompt of the most recent one, in pane order, and opens `tui.screens.blind_vote.BlindVoteScreen` on
them. Votes go to the vote log beside the history (`profiles.votes`), read once when the
first blind vote opens; with `--no-history` they are kept for the session only.
"""

from __future__ import annotations

from typing import Any

from engines.types import FINISHED_STOP_REASONS
from profiles.standings import Standing, standings_by_model
from profiles.votes import VoteLog, votes_for_profile, votes_path


class BlindVoteAction:
    """Opens the blind vote for the app, and holds the session's vote log."""

    def __init__(self, app: Any, write: bool = True) -> None:
        """`app`: the `tui.app.WorkbenchApp`; `write`: append votes to the vote log file."""
        self.app = app
        self.write = write
        self._log: VoteLog | None = None

    @property
    def log(self) -> VoteLog:
        """The vote log (earlier votes read on first use; unreadable lines are told)."""
        if self._log is None:
            self._log, warnings = VoteLog.open(votes_path() if self.write else None)
            for warning in warnings:
                self.app.notify(warning, severity="warning", timeout=10)
        return self._log

    def standings(self) -> dict[str, Standing] | None:
        """The profile's standings from the vote log and this session's votes; None without."""
        votes = votes_for_profile(self.log.votes, self.app.profile.name)
        return standings_by_model(votes) or None

    def answers(self) -> list[Any]:
        """The answers to judge, in pane order: each pane's answer to the suite prompt shown
        (`n` / `N`) when two panes have one, else each pane's latest answer to the prompt
        of the newest answer."""
        panes = self.app.workbench.panes
        shown_id = self._shown_suite_prompt_id()
        if shown_id is not None:
            suite_results = self.app.suite_results
            found = [
                suite_results[(pane.pane_id, shown_id)]
                for pane in panes
                if (pane.pane_id, shown_id) in suite_results
            ]
            if len(found) >= 2:
                return found
        results = self.app.results
        latest = [
            results[pane.pane_id]
            for pane in panes
            if pane.pane_id in results
            and results[pane.pane_id].figures.stop_reason in FINISHED_STOP_REASONS
        ]
        if not latest:
            return []
        newest = max(latest, key=lambda result: result.created_at)
        question = (newest.prompt, newest.system_prompt)
        return [result for result in latest if (result.prompt, result.system_prompt) == question]

    def _shown_suite_prompt_id(self) -> str | None:
        """The id of the suite prompt the workbench shows, or None without a suite."""
        return self.app.workbench.suite.shown_prompt_id()

    def start(self) -> None:
        """Open the blind vote, or say in one line why it cannot open."""
        from tui.screens.blind_vote import BlindVoteScreen

        answers = self.answers()
        if len(answers) < 2:
            self.app.notify(
                "a blind vote needs two finished answers to the same prompt: run it on two panes",
                severity="warning",
            )
            return
        self.app.push_screen(BlindVoteScreen(answers, self.log, self.app.profile.name))
