"""How much parallel panes keep of their solo speed, with llmbench's default thread choice.

Runs the `small-vs-large` profile's models through the real worker path (spawned
processes, pipes, batching; `profiles.runner.run_comparison`): first one after another,
each alone with every core, then all at once with the threads llmbench chooses for
parallel panes. For each model it prints the solo and the parallel decode speed and their
ratio; the last line is the sum of those ratios:

    parallel efficiency: X.XX

1.0 means running side by side buys nothing over running one after another; the number
of panes is the limit. Target: at least 1.6 for two panes on a 2-core machine.

So that the panes really overlap for their whole answer, each parallel pane is asked for
about the same generation time (`--seconds`), from its solo speed; a model that stops
early (end of sequence) is reported, since its partner then runs alone for a while.

    .venv/bin/python benchmarks/parallel_efficiency.py [--profile NAME] [--tokens N]
        [--seconds S] [--repeat N]

Each leg runs one warm-up and `--repeat` measured answers per model (each model loaded
once per leg; in parallel the panes start each answer together) and uses the median.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
from dataclasses import replace

from engines.machine.threads import available_cores
from profiles.plan import PanePlan, build_plan
from profiles.run_report import ComparisonOutcome
from profiles.runner import run_comparison
from profiles.store import load_profile

PROMPT = "Write a long, detailed story about a lighthouse keeper who finds a map in a bottle."
"""Long answers from the chat model and the base model alike."""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--profile", default="small-vs-large")
    parser.add_argument("--tokens", type=int, default=160, help="tokens per solo answer")
    parser.add_argument(
        "--seconds", type=float, default=2.0, help="parallel answer length in seconds"
    )
    parser.add_argument("--n-ctx", type=int, default=1024)
    parser.add_argument(
        "--repeat", type=int, default=3, help="measured runs per leg (the median is used)"
    )
    args = parser.parse_args()

    profile = load_profile(args.profile)
    solo_plans = _shorter(build_plan(profile, parallel=False), args.tokens, args.n_ctx)
    print(f"profile: {profile.name}")
    print(f"cores: {available_cores()}")
    print(f"load average before (1 min): {os.getloadavg()[0]:.2f}")
    print(f"runs per leg (median): {args.repeat}")
    solo = _run(solo_plans, "sequential", args.repeat)
    solo_speed = _decode_speeds(solo)

    parallel_plans = build_plan(profile, parallel=True)
    parallel_plans = [
        replace(
            plan,
            settings=replace(plan.settings, n_ctx=args.n_ctx),
            sampling=replace(
                plan.sampling,
                max_tokens=max(16, round(solo_speed.get(plan.index, 0.0) * args.seconds)),
            ),
        )
        for plan in parallel_plans
    ]
    parallel = _run(parallel_plans, "parallel", args.repeat)
    parallel_speed = _decode_speeds(parallel)

    efficiency = 0.0
    for solo_plan, parallel_plan in zip(solo_plans, parallel_plans, strict=True):
        name = solo_plan.label
        before, after = solo_speed.get(solo_plan.index), parallel_speed.get(parallel_plan.index)
        print(f"{name} solo threads: {solo_plan.settings.n_threads}")
        print(f"{name} solo decode tok/s: {_fmt(before)}")
        print(f"{name} parallel threads: {parallel_plan.settings.n_threads}")
        print(f"{name} parallel decode tok/s: {_fmt(after)}")
        early = [
            result.figures.generated_tokens
            for result in parallel.results
            if result.pane_index == parallel_plan.index and result.figures.stop_reason != "length"
        ]
        if early:
            print(
                f"{name} note: stopped early in {len(early)} run(s) ({min(early)} tokens or more)"
            )
        if before and after:
            ratio = after / before
            efficiency += ratio
            print(f"{name} parallel/solo: {ratio:.2f}")
    print(f"load average after (1 min): {os.getloadavg()[0]:.2f}")
    if efficiency > len(solo_plans) * 1.05:
        print(
            "note: above the limit of one per pane, so the machine was busy: other load hurts "
            "a solo model that spin-waits on every core more than panes with a core each"
        )
    print(f"parallel efficiency: {efficiency:.2f}")
    return 0


def _shorter(plans: list[PanePlan], tokens: int, n_ctx: int) -> list[PanePlan]:
    return [
        replace(
            plan,
            settings=replace(plan.settings, n_ctx=n_ctx),
            sampling=replace(plan.sampling, max_tokens=tokens),
        )
        for plan in plans
    ]


def _run(plans: list[PanePlan], mode: str, repeat: int) -> ComparisonOutcome:
    outcome = run_comparison(plans, PROMPT, mode=mode, repeat=repeat, warmup=1, history=False)
    for failure in outcome.failures:
        print(f"failed: {failure.label}: {failure.reason}", file=sys.stderr)
    if outcome.failures:
        raise SystemExit(1)
    return outcome


def _decode_speeds(outcome: ComparisonOutcome) -> dict[int, float]:
    """Each pane's median decode speed over its measured runs."""
    speeds: dict[int, list[float]] = {}
    for result in outcome.results:
        if result.pane_index is not None and result.figures.decode_tps is not None:
            speeds.setdefault(result.pane_index, []).append(result.figures.decode_tps)
    return {index: statistics.median(values) for index, values in speeds.items()}


def _fmt(value: float | None) -> str:
    return f"{value:.1f}" if value is not None else "—"


if __name__ == "__main__":
    raise SystemExit(main())
