"""Blind votes: appended as cast, read back after a crash, pairs drawn evenly and reproducibly."""

from __future__ import annotations

from collections import Counter

import pytest
from result_samples import make_result

from engines.paths import data_dir
from profiles import jsonl_log
from profiles.results import RunResult
from profiles.vote_pairs import draw_pair, judged_counts, pair_key
from profiles.votes import (
    Vote,
    VoteLog,
    VoteWriteError,
    append_vote,
    read_votes,
    votes_for_profile,
    votes_path,
)


def answer(model_ref: str, pane: int, text: str = "an answer") -> RunResult:
    return make_result(label=model_ref.split(":")[-1], text=text).model_copy(
        update={"model_ref": model_ref, "pane_index": pane, "id": f"r-{pane}"}
    )


def a_vote(model_a: str = "demo:a", model_b: str = "demo:b", verdict: str = "a") -> Vote:
    return Vote.cast(answer(model_a, 0), answer(model_b, 1), verdict, swapped=False, order_seed=5)


def test_a_vote_carries_the_results_provenance() -> None:
    shown_a, shown_b = answer("demo:big", 1), answer("demo:small", 0)
    vote = Vote.cast(shown_a, shown_b, "b", swapped=True, order_seed=42)
    assert (vote.result_a, vote.result_b) == ("r-1", "r-0")
    assert (vote.model_a, vote.model_b) == ("demo:big", "demo:small")
    assert (vote.pane_a, vote.pane_b) == (1, 0)
    assert (vote.label_a, vote.label_b) == ("big", "small")
    assert vote.profile == "small-vs-large"
    assert vote.prompt == shown_a.prompt and vote.system_prompt == "Be brief."
    assert vote.swapped and vote.order_seed == 42 and vote.vote == "b"
    assert vote.winner == "demo:small"
    assert vote.prompt_id is None
    assert vote.created_at and vote.id


def test_a_verdict_not_one_of_the_four_or_two_prompts_are_refused() -> None:
    with pytest.raises(ValueError, match="a, b, tie, both_bad"):
        a_vote(verdict="maybe")
    other = answer("demo:b", 1).model_copy(update={"prompt": "Something else"})
    with pytest.raises(ValueError, match="same prompt"):
        Vote.cast(answer("demo:a", 0), other, "a", swapped=False, order_seed=1)


def test_votes_are_appended_beside_the_history_one_line_each_with_fsync(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[str] = []
    real_write, real_fsync = jsonl_log.os.write, jsonl_log.os.fsync

    def write(fd: int, data: bytes) -> int:
        calls.append("write")
        return real_write(fd, data)

    def fsync(fd: int) -> None:
        calls.append("fsync")
        real_fsync(fd)

    monkeypatch.setattr(jsonl_log.os, "write", write)
    monkeypatch.setattr(jsonl_log.os, "fsync", fsync)
    first, second = a_vote(), a_vote(verdict="tie")
    assert append_vote(first) == votes_path() == data_dir() / "votes.jsonl"
    append_vote(second)
    assert calls == ["write", "fsync", "write", "fsync"]
    assert votes_path().read_text().count("\n") == 2
    assert read_votes() == ([first, second], [])


def test_a_torn_last_line_is_skipped_with_a_warning_and_nothing_else_is_lost() -> None:
    kept = [a_vote(), a_vote(verdict="both_bad")]
    for vote in kept:
        append_vote(vote)
    with votes_path().open("ab") as handle:
        handle.write(a_vote().model_dump_json().encode()[:60])
    votes, warnings = read_votes()
    assert votes == kept
    assert warnings == [
        f"{votes_path()}: line 3 skipped (not valid JSON; probably cut short by a crash)"
    ]
    later = a_vote(verdict="b")
    append_vote(later)
    votes, warnings = read_votes()
    assert votes == [*kept, later]
    assert len(warnings) == 1


def test_no_vote_file_is_no_votes() -> None:
    assert read_votes() == ([], [])


def test_a_vote_log_that_cannot_write_keeps_the_vote_and_names_the_file(tmp_path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the data folder should be")
    log = VoteLog(blocker / "votes.jsonl")
    vote = a_vote()
    with pytest.raises(VoteWriteError) as caught:
        log.record(vote)
    assert str(caught.value).startswith(f"{blocker / 'votes.jsonl'}: ")
    assert "\n" not in str(caught.value)
    assert log.votes == [vote]


def test_a_vote_log_reopens_with_its_earlier_votes() -> None:
    log, warnings = VoteLog.open(votes_path())
    assert (log.votes, warnings) == ([], [])
    vote = a_vote()
    log.record(vote)
    again, _ = VoteLog.open(votes_path())
    assert again.votes == [vote]
    assert votes_for_profile(again.votes, "other") == []
    assert votes_for_profile(again.votes, "small-vs-large") == [vote]


def test_the_least_judged_pair_is_drawn_first() -> None:
    models = ["m0", "m1", "m2"]
    counts = Counter({pair_key("m0", "m1"): 2, pair_key("m1", "m2"): 1, pair_key("m0", "m2"): 1})
    drawn = {draw_pair(models, counts, seed=seed).in_order for seed in range(50)}
    assert drawn == {(1, 2), (0, 2)}
    assert draw_pair(models, counts, done={(1, 2), (0, 2), (0, 1)}) is None
    assert draw_pair(models, counts, done={(1, 2), (0, 2)}, seed=1).in_order == (0, 1)


def test_pairs_come_out_about_equally_often_and_the_order_is_random_but_reproducible() -> None:
    models = ["m0", "m1", "m2", "m3"]
    votes: list = []
    orders = Counter()
    for seed in range(600):
        drawn = draw_pair(models, judged_counts(votes), seed=seed)
        assert drawn == draw_pair(models, judged_counts(votes), seed=seed)
        orders[drawn.swapped] += 1
        votes.append(
            type("V", (), {"model_a": models[drawn.shown_a], "model_b": models[drawn.shown_b]})
        )
    per_pair = judged_counts(votes)
    assert len(per_pair) == 6
    assert set(per_pair.values()) == {100}
    assert 250 < orders[True] < 350


def test_panes_of_one_model_are_told_apart_by_their_labels() -> None:
    sweep = [("demo:x", "cold"), ("demo:x", "warm"), ("demo:x", "hot")]
    judged = [Vote.cast(answer("demo:x", 0), answer("demo:x", 1), "a", swapped=False, order_seed=1)]
    judged = [judged[0].model_copy(update={"label_a": "cold", "label_b": "warm"})]
    counts = judged_counts(judged)
    assert counts == {("cold", "warm"): 1}
    drawn = {draw_pair(sweep, counts, seed=seed).in_order for seed in range(40)}
    assert drawn == {(0, 2), (1, 2)}


def test_a_vote_log_that_cannot_be_read_is_one_warning_not_a_crash() -> None:
    votes_path().mkdir(parents=True)
    votes, warnings = read_votes()
    assert votes == []
    assert warnings == [f"{votes_path()}: cannot be read (Is a directory)"]
