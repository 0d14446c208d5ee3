"""Suite runs with scripted models: every prompt on every pane, checks recorded, the
quality table, resuming after an interruption, and concurrent requests to a server."""

from __future__ import annotations

import threading
import time

from engines.fake import FakeModelHandle, FakeScript
from engines.types import ModelSettings, SamplingParams
from profiles.history import read_history
from profiles.plan import PanePlan
from profiles.quality_table import quality_caption, quality_rows
from profiles.runner import run_comparison
from profiles.standings import Standing
from profiles.suite import Suite, SuitePrompt
from profiles.suite_run import plan_suite_run


def plan(index: int, **extra) -> PanePlan:
    label = f"pane{index}"
    values = dict(
        index=index,
        label=label,
        model_ref=f"/models/{label}.gguf",
        kind="local",
        settings=ModelSettings(path=f"/models/{label}.gguf", n_ctx=512, n_threads=1, label=label),
        sampling=SamplingParams(max_tokens=16),
    )
    return PanePlan(**{**values, **extra})


def suite(count: int = 4) -> Suite:
    prompts = [
        SuitePrompt(id=f"q{n}", text=f"question {n}", expect={"contains": "world", "max_words": 1})
        for n in range(count)
    ]
    return Suite("tiny", "test", tuple(prompts))


def factory(scripts: dict[int, FakeScript] | None = None):
    scripts = scripts or {}
    return lambda pane: FakeModelHandle(scripts.get(pane.index, FakeScript()))


def test_every_prompt_runs_on_every_pane_with_its_checks_in_the_history() -> None:
    plans = [plan(0), plan(1)]
    run = plan_suite_run(suite(), plans, profile_name="p")
    outcome = run_comparison(
        plans, "", handle_factory=factory(), profile_name="p", items_for=run.items_for
    )
    assert outcome.ok
    results = run.results(outcome)
    assert [(r.pane_index, r.suite.prompt_id) for r in results] == [
        (pane, f"q{n}") for pane in (0, 1) for n in range(4)
    ]
    assert [r.prompt for r in results[:4]] == [f"question {n}" for n in range(4)]
    first = results[0].suite
    assert first.run_id == run.run_id and first.prompt_count == 4
    # "Hello, world!" contains "world" but has two words
    assert [(c.kind, c.passed) for c in first.checks] == [("contains", True), ("max_words", False)]
    history, _ = read_history()
    assert {r.id for r in history} == {r.id for r in results}
    assert all(r.suite is not None and r.suite.run_id == run.run_id for r in history)


def test_interrupted_run_keeps_its_answers_and_resumes_where_it_stopped() -> None:
    plans = [plan(0), plan(1)]
    cancel = threading.Event()
    answered = []

    def stop_after_three(progress) -> None:
        if progress.phase == "generated":
            answered.append(progress)
            if len(answered) == 3:
                cancel.set()

    slow = {i: FakeScript(token_delay_s=0.01) for i in (0, 1)}
    first = plan_suite_run(suite(), plans, profile_name="p")
    outcome = run_comparison(
        plans,
        "",
        handle_factory=factory(slow),
        profile_name="p",
        items_for=first.items_for,
        on_progress=stop_after_three,
        cancel=cancel,
    )
    assert not outcome.ok and len(outcome.results) == 3
    history, _ = read_history()
    assert len(history) == 3

    again = plan_suite_run(suite(), plans, profile_name="p", history=history)
    assert again.resumed and again.run_id == first.run_id
    assert again.remaining(plans) == 5
    outcome = run_comparison(
        plans, "", handle_factory=factory(), profile_name="p", items_for=again.items_for
    )
    assert outcome.ok and len(outcome.results) == 5
    every = again.results(outcome)
    assert sorted((r.pane_index, r.suite.prompt_id) for r in every) == [
        (pane, f"q{n}") for pane in (0, 1) for n in range(4)
    ]
    history, _ = read_history()
    assert len(history) == 8 and {r.suite.run_id for r in history} == {first.run_id}

    # finished now: the next run is a new one, and --fresh always is
    finished = plan_suite_run(suite(), plans, profile_name="p", history=history)
    assert not finished.resumed and finished.run_id != first.run_id
    fresh = plan_suite_run(suite(), plans, profile_name="p", history=history[:3], fresh=True)
    assert not fresh.resumed and fresh.remaining(plans) == 8


def test_a_changed_suite_or_profile_does_not_resume() -> None:
    plans = [plan(0)]
    run = plan_suite_run(suite(), plans, profile_name="p")
    cancel = threading.Event()
    run_comparison(
        plans,
        "",
        handle_factory=factory({0: FakeScript(token_delay_s=0.01)}),
        profile_name="p",
        items_for=run.items_for,
        on_progress=lambda p: cancel.set() if p.phase == "generated" else None,
        cancel=cancel,
    )
    history, _ = read_history()
    assert plan_suite_run(suite(), plans, profile_name="p", history=history).resumed
    assert not plan_suite_run(suite(5), plans, profile_name="p", history=history).resumed
    assert not plan_suite_run(suite(), plans, profile_name="other", history=history).resumed


def test_quality_rows_sum_up_checks_and_costs_per_pane_with_standings() -> None:
    plans = [plan(0), plan(1)]
    run = plan_suite_run(suite(3), plans, profile_name="p")
    scripts = {1: FakeScript(tokens=("world",))}
    outcome = run_comparison(
        plans, "", handle_factory=factory(scripts), items_for=run.items_for, history=False
    )
    standing = Standing(
        model="/models/pane1.gguf",
        votes=8,
        wins=6.0,
        win_rate=0.75,
        win_low=0.4,
        win_high=0.93,
        rating=None,
    )
    rows = quality_rows(run.results(outcome), {"/models/pane1.gguf": standing})
    assert [row.label for row in rows] == ["pane0", "pane1"]
    assert (rows[0].checks_passed, rows[0].checks_total, rows[0].checks_pct) == (3, 6, 50.0)
    assert (rows[1].checks_passed, rows[1].checks_total, rows[1].checks_pct) == (6, 6, 100.0)
    assert rows[0].win_rate is None and rows[1].win_rate == 0.75 and rows[1].votes == 8
    assert rows[0].tokens_per_answer == 4 and rows[1].tokens_per_answer == 1
    assert rows[0].answers == 3 and rows[0].prompts == 3
    assert rows[0].median_ttft_s is not None
    assert quality_rows(run.results(outcome), None)[1].win_rate is None


def test_an_openai_pane_with_concurrency_sends_requests_at_once() -> None:
    from openai_stub_server import OpenAIStub, StubReply, chunk

    from profiles.plan import open_handle

    reply = StubReply(hang_s=0.4, chunks=[chunk("Hello world"), chunk(finish="stop")])
    with OpenAIStub(replies=[reply]) as stub:
        ref = f"openai:{stub.url}"
        timings = {}
        for concurrency in (1, 2):
            served = plan(
                0,
                model_ref=ref,
                kind="openai",
                settings=ModelSettings(path=ref, label="served"),
                concurrency=concurrency,
            )
            run = plan_suite_run(suite(4), [served], profile_name=f"c{concurrency}")
            started = time.perf_counter()
            outcome = run_comparison(
                [served], "", handle_factory=open_handle, items_for=run.items_for, history=False
            )
            timings[concurrency] = time.perf_counter() - started
            assert outcome.ok, outcome.failures
            results = run.results(outcome)
            assert [r.suite.prompt_id for r in results] == ["q0", "q1", "q2", "q3"]
            assert {r.suite.concurrency for r in results} == {concurrency}
        rows = quality_rows(results)
        assert "per request under concurrency" in quality_caption(rows, "sequential")
    print(f"suite of 4 at concurrency 1: {timings[1]:.2f} s, 2: {timings[2]:.2f} s")
    assert timings[2] < 0.75 * timings[1]


def test_a_suite_warms_each_model_up_once_and_records_only_measured_answers() -> None:
    handles = []

    def make(pane):
        handles.append(FakeModelHandle(FakeScript()))
        return handles[-1]

    plans = [plan(0)]
    run = plan_suite_run(suite(3), plans, profile_name="p", repeat=2)
    outcome = run_comparison(
        plans, "", handle_factory=make, items_for=run.items_for, warmup=1, repeat=2, history=False
    )
    assert outcome.ok
    assert len(handles[0].requests) == 1 + 3 * 2
    results = run.results(outcome)
    assert [(r.suite.prompt_id, r.repetition) for r in results] == [
        (f"q{n}", rep) for n in range(3) for rep in (0, 1)
    ]


def test_answers_left_names_each_missing_prompt_and_the_panes_missing_it() -> None:
    from profiles.suite_run import answers_left, pane_key

    plans = [plan(0), plan(1)]
    first = plan_suite_run(suite(3), plans, profile_name="p")
    assert answers_left(first, plans) == {i: {pane_key(p) for p in plans} for i in range(3)}
    only_pane_0 = {0: first.items_for(plans[0])[:1]}  # pane 0 answers q0 alone
    run_comparison(
        plans[:1],
        "",
        handle_factory=factory(),
        profile_name="p",
        items_for=lambda p: only_pane_0.get(p.index, []),
    )
    history, _ = read_history()
    resumed = plan_suite_run(suite(3), plans, profile_name="p", history=history)
    assert resumed.resumed
    everyone = {pane_key(p) for p in plans}
    assert answers_left(resumed, plans) == {0: {pane_key(plans[1])}, 1: everyone, 2: everyone}
