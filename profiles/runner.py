"""Runs a comparison to the end without a user interface: the one engine path of headless runs.

`run_comparison(plans, prompt)` loads each pane's model once, runs the warm-up and
measured repetitions, turns every measured generation into a `RunResult` (appended to
the history as it finishes) and reports panes that failed without stopping the others.

- sequential: panes one after another (load, run, close), so only one model holds memory
  and each has the machine to itself: the fair mode for speed;
- parallel: every pane at once, a thread per pane driving its handle; the panes start
  each repetition together, so they really share the machine while they generate.

Each pane's run (`profiles.pane_run.PaneRun`) drives its model through
`profiles.run_driver.PaneDriver`, as in the workbench:
contained start failures, lower worker priority, energy and GPU memory around each
generation (`engines.machine.run_meter`), the generation deadline, a stop that always
ends. Results come from `profiles.result_recorder.ResultRecorder`, as in the workbench;
a result the history cannot take is still kept (with a warning).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence

from engines.types import DEFAULT_TOP_CANDIDATES
from profiles.pane_run import PaneRun, ProgressCallback, RunContext
from profiles.plan import PanePlan, open_handle
from profiles.result_recorder import ResultRecorder
from profiles.run_driver import DriverOptions, HandleFactory
from profiles.run_report import ComparisonOutcome, PaneFailure, RunItem
from profiles.schema import RunMode

__all__ = ["run_comparison"]


LOAD_IDLE_TIMEOUT_S = 600.0
"""A model that sends nothing for this long while loading fails its pane (a generation is
bounded by the generation deadline instead: `DriverOptions.generation_deadline_s`)."""


def run_comparison(
    plans: list[PanePlan],
    prompt: str,
    system_prompt: str | None = None,
    mode: RunMode = "sequential",
    repeat: int = 1,
    warmup: int = 0,
    handle_factory: HandleFactory = open_handle,
    on_progress: ProgressCallback | None = None,
    history: bool = True,
    *,
    profile_name: str | None = None,
    cancel: threading.Event | None = None,
    idle_timeout_s: float = LOAD_IDLE_TIMEOUT_S,
    driver_options: DriverOptions | None = None,
    recorder: ResultRecorder | None = None,
    top_logprobs: int = DEFAULT_TOP_CANDIDATES,
    items_for: Callable[[PanePlan], Sequence[RunItem]] | None = None,
) -> ComparisonOutcome:
    """Run every pane of `plans` on `prompt` and collect the results.

    `top_logprobs` > 0 records token probabilities with that many candidates per token
    for local panes, in each result's `logprobs` (`profiles.logprobs`), and so the
    answer's mean log-probability, perplexity and entropy; on by default, as in the
    workbench (benchmarks/decode_overhead.py measures the cost), 0 switches it off.

    `repeat` measured generations per pane follow `warmup` unmeasured ones. Without a
    warm-up every measured run is cold (the prompt cache is not used, so each evaluates the
    whole prompt and the repeats measure the same work); after a warm-up they are all warm
    (the prompt comes from the cache the warm-up filled). `outcome.warm` says which. A pane that
    fails (bad reference, load failure, crash, error, past its deadline) is reported in
    `failures`; the others carry on. Setting `cancel` stops the running generations and
    skips the rest. `driver_options` (default: config.toml's) say how each generation is
    driven; `recorder` (default: one appending to the history when `history`) makes the
    results. `idle_timeout_s` bounds a model's silence while it loads.

    `items_for` makes it a suite run (`profiles.suite_run`): each pane loads once and runs
    every prompt it is given, in order, instead of `prompt`; parallel panes then go at their
    own pace (no common start per step), and an openai: pane with `concurrency` > 1 sends
    that many prompts at once, each lane with its own client.
    """
    if repeat < 1:
        raise ValueError("repeat must be at least 1")
    if warmup < 0:
        raise ValueError("warmup cannot be negative")
    if mode not in ("sequential", "parallel"):
        raise ValueError(f"unknown mode {mode!r}: use 'sequential' or 'parallel'")
    outcome = ComparisonOutcome(mode=mode, warm=warmup > 0)
    recorder = recorder or ResultRecorder(history=history)
    context = RunContext(
        prompt=prompt,
        system_prompt=system_prompt,
        mode=mode,
        repeat=repeat,
        warmup=warmup,
        handle_factory=handle_factory,
        on_progress=on_progress,
        profile_name=profile_name,
        cancel=cancel or threading.Event(),
        idle_timeout_s=idle_timeout_s,
        driver_options=driver_options or DriverOptions.from_config(),
        recorder=recorder,
        top_logprobs=top_logprobs,
        outcome=outcome,
        items_for=items_for,
    )
    recorder.host()  # read once, before any pane runs
    if items_for is not None:
        _run_suite(plans, context)
    elif mode == "sequential" or len(plans) <= 1:
        for plan in plans:
            PaneRun(plan, context, gate=None).run()
    else:
        gate = threading.Barrier(len(plans))
        panes = [PaneRun(plan, context, gate) for plan in plans]
        try:
            for pane in panes:
                threading.Thread(
                    target=pane.run, name=f"pane-{pane.plan.index}", daemon=True
                ).start()
                pane.started = True
            for pane in panes:
                pane.done.wait()
        except KeyboardInterrupt:
            # Let every pane cancel and close its worker before giving up. (Waiting on our
            # own events: a Thread.join interrupted by Ctrl-C can wrongly return at once.)
            context.cancel.set()
            gate.abort()  # panes waiting for one that never started go on (and stop)
            for pane in panes:
                if pane.started:
                    pane.done.wait(timeout=10 + context.driver_options.stop_grace_s)
            raise
    outcome.results = [result for _, _, result in sorted(context.finished, key=lambda f: f[:2])]
    outcome.failures = _distinct(sorted(outcome.failures, key=lambda f: f.pane))
    return outcome


def _distinct(failures: list[PaneFailure]) -> list[PaneFailure]:
    """One failure per pane and reason (a pane's concurrent lanes often fail alike)."""
    seen: set[tuple[int, str]] = set()
    kept = []
    for failure in failures:
        if (failure.pane, failure.reason) not in seen:
            seen.add((failure.pane, failure.reason))
            kept.append(failure)
    return kept


def _run_suite(plans: list[PanePlan], context: RunContext) -> None:
    """Every pane's prompts: one pane at a time (sequential), or every pane at once, each at
    its own pace; an openai: pane with concurrency > 1 runs that many lanes at once."""
    assert context.items_for is not None
    groups: list[list[PaneRun]] = []
    for plan in plans:
        items = list(context.items_for(plan))
        lanes = plan.concurrency if plan.kind == "openai" and plan.runnable else 1
        lanes = max(1, min(lanes, len(items)))
        groups.append(
            [PaneRun(plan, context, None, items=items[lane::lanes]) for lane in range(lanes)]
        )
    if context.mode == "sequential":
        for group in groups:
            _run_together(group, context)
    else:
        _run_together([run for group in groups for run in group], context)


def _run_together(runs: list[PaneRun], context: RunContext) -> None:
    if len(runs) == 1:
        runs[0].run()
        return
    try:
        for run in runs:
            threading.Thread(target=run.run, name=f"pane-{run.plan.index}", daemon=True).start()
            run.started = True
        for run in runs:
            run.done.wait()
    except KeyboardInterrupt:
        context.cancel.set()
        for run in runs:
            if run.started:
                run.done.wait(timeout=10 + context.driver_options.stop_grace_s)
        raise
