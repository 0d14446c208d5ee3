"""`llmbench votes [PROFILE]` through the real click entry point."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from result_samples import make_result

from profiles.votes import Vote, append_vote, votes_path
from tui.cli import cli


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def cast(model_a: str, model_b: str, verdict: str, profile: str = "small-vs-large") -> Vote:
    shown_a = make_result().model_copy(update={"model_ref": model_a, "id": f"r-{model_a}"})
    shown_b = make_result().model_copy(update={"model_ref": model_b, "id": f"r-{model_b}"})
    return Vote.cast(shown_a, shown_b, verdict, swapped=False, order_seed=1, profile=profile)


def test_no_votes_is_one_clear_line(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["votes"])
    assert result.exit_code == 0, result.output
    assert result.output.count("\n") == 1
    assert result.output.startswith(f"no votes yet in {votes_path()}: cast some in the workbench")


def test_two_models_show_win_rates_with_intervals_and_no_rating(runner: CliRunner) -> None:
    for verdict in ("a", "a", "a", "b", "tie"):
        append_vote(cast("demo:gemma3-270m", "demo:smollm2-135m", verdict))
    result = runner.invoke(cli, ["votes"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "Standings from 5 votes on 1 prompt (every profile)"
    assert lines[1].split() == ["model", "votes", "win", "rate", "(95", "%", "interval)", "rating"]
    # gemma: 3.5 of 5 → 70 %, Wilson (29.9 %–92.7 %) by hand; smollm: 1.5 of 5 → 30 % (7.3 %–70.1 %).
    assert lines[2].split() == ["demo:gemma3-270m", "5", "70", "%", "(30–93", "%)", "—"]
    assert lines[3].split() == ["demo:smollm2-135m", "5", "30", "%", "(7–70", "%)", "—"]
    assert "ties count half" in lines[4].lower() or "tie counts half" in lines[4].lower()


def test_three_models_get_ratings_and_a_profile_filters(runner: CliRunner) -> None:
    for a, b, verdict in [("x:a", "x:b", "a"), ("x:b", "x:c", "a"), ("x:a", "x:c", "a")]:
        append_vote(cast(a, b, verdict))
    append_vote(cast("x:z", "x:y", "a", profile="other"))
    result = runner.invoke(cli, ["votes", "small-vs-large"])
    assert result.exit_code == 0, result.output
    rows = [line.split() for line in result.output.splitlines()[2:5]]
    assert [row[0] for row in rows] == ["x:a", "x:b", "x:c"]
    ratings = [int(row[-1]) for row in rows]
    assert ratings[0] > ratings[1] > ratings[2]
    assert "x:z" not in result.output
    assert "(profile small-vs-large)" in result.output


def test_a_profile_without_votes_and_an_unknown_profile(runner: CliRunner) -> None:
    append_vote(cast("x:a", "x:b", "a"))
    known = runner.invoke(cli, ["votes", "small-vs-large"])
    assert known.exit_code == 0 and "x:a" in known.output
    bundled = runner.invoke(cli, ["votes", "quant-ladder"])
    assert bundled.exit_code == 0
    assert bundled.output.startswith("no votes yet for profile quant-ladder in ")
    unknown = runner.invoke(cli, ["votes", "no-such-profile"])
    assert unknown.exit_code == 2
    assert unknown.output.count("\n") == 1
    assert unknown.output.startswith("error: ") and "no-such-profile" in unknown.output


def test_a_torn_vote_line_is_a_warning_and_the_rest_counts(runner: CliRunner) -> None:
    append_vote(cast("x:a", "x:b", "b"))
    with votes_path().open("ab") as handle:
        handle.write(b'{"vote_version": 1, "id": "cut')
    result = runner.invoke(cli, ["votes"])
    assert result.exit_code == 0
    assert "warning: " in result.output and "line 2 skipped" in result.output
    assert "Standings from 1 vote on 1 prompt" in result.output
