"""A suite run: every prompt of a suite on every pane, resumable after an interruption.

Each run has an id (`new_result_id`); every finished answer goes to the history as it
lands (through `profiles.runner.run_comparison`, with the same provenance as any result)
tagged with a `SuiteRecord`: the run id, the prompt, the pane's identity and the check
results. Interrupting keeps every finished answer. `plan_suite_run` looks in the history
for an unfinished run of the same suite (same prompts and checks) and profile with the
same panes: by default it resumes it (only the missing answers run, under its id);
`fresh=True` starts a new run.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from profiles.checks import run_checks
from profiles.results import RunResult, new_result_id
from profiles.run_report import ComparisonOutcome, RunItem
from profiles.suite_record import SuiteRecord

if TYPE_CHECKING:
    from profiles.plan import PanePlan
    from profiles.suite import Suite


def pane_key(plan: PanePlan) -> str:
    """A pane's identity within a suite run: its place, model and sampling values
    (the seed left out, which `seed_mode = "new"` changes per run)."""
    sampling = {
        "temperature": plan.sampling.temperature,
        "top_p": plan.sampling.top_p,
        "top_k": plan.sampling.top_k,
        "min_p": plan.sampling.min_p,
        "repeat_penalty": plan.sampling.repeat_penalty,
        "max_tokens": plan.sampling.max_tokens,
        "stop": list(plan.sampling.stop),
    }
    data = json.dumps([plan.index, plan.model_ref, sampling], sort_keys=True)
    return hashlib.sha256(data.encode("utf-8")).hexdigest()[:12]


@dataclass
class SuiteRun:
    """One suite run's plan: its id, whether it resumes an earlier one, and what is left."""

    run_id: str
    suite: Suite
    profile_name: str | None
    repeat: int = 1
    resumed: bool = False
    earlier: list[RunResult] = field(default_factory=list)
    """Answers of this run already in the history (a resumed run), in suite order."""
    system_prompt: str | None = None
    """The profile's system prompt, for prompts without their own."""
    _done: Counter = field(default_factory=Counter)

    def items_for(self, plan: PanePlan) -> list[RunItem]:
        """The prompts `plan` still has to answer, in suite order."""
        key = pane_key(plan)
        suite = self.suite
        items = []
        for index, (prompt, prompt_id) in enumerate(zip(suite.prompts, suite.ids, strict=True)):
            if self._done[(key, prompt_id)] >= self.repeat:
                continue
            items.append(
                RunItem(
                    prompt=prompt.text,
                    system_prompt=prompt.system or self.system_prompt,
                    key=prompt_id,
                    index=index,
                    annotate=self._annotator(plan, key, index, prompt_id),
                )
            )
        return items

    def remaining(self, plans: Sequence[PanePlan]) -> int:
        """Answers still to run over `plans` (runnable panes only)."""
        return sum(len(self.items_for(plan)) * self.repeat for plan in plans if plan.runnable)

    def total(self, plans: Sequence[PanePlan]) -> int:
        """Answers the whole run makes over `plans` (runnable panes only)."""
        return len(self.suite.prompts) * self.repeat * sum(1 for plan in plans if plan.runnable)

    def results(self, outcome: ComparisonOutcome) -> list[RunResult]:
        """Every answer of the run: earlier ones (resumed) and `outcome`'s, in suite order."""
        combined = [*self.earlier, *outcome.results]
        return sorted(
            combined,
            key=lambda r: (
                r.pane_index if r.pane_index is not None else -1,
                r.suite.prompt_index if r.suite else 0,
                r.repetition,
            ),
        )

    def _annotator(
        self, plan: PanePlan, key: str, index: int, prompt_id: str
    ) -> Callable[[str, int | None], SuiteRecord]:
        prompt = self.suite.prompts[index]
        concurrency = plan.concurrency if plan.kind == "openai" else 1

        def annotate(text: str, generated_tokens: int | None) -> SuiteRecord:
            return SuiteRecord(
                run_id=self.run_id,
                suite=self.suite.name,
                digest=self.suite.digest,
                prompt_id=prompt_id,
                prompt_index=index,
                prompt_count=len(self.suite.prompts),
                pane_key=key,
                concurrency=concurrency,
                checks=run_checks(prompt.expect, text, generated_tokens),
            )

        return annotate


def plan_suite_run(
    suite: Suite,
    plans: Sequence[PanePlan],
    *,
    profile_name: str | None,
    history: Iterable[RunResult] = (),
    fresh: bool = False,
    repeat: int = 1,
    system_prompt: str | None = None,
) -> SuiteRun:
    """A new suite run, or (unless `fresh`) the latest unfinished run of the same suite and
    profile found in `history`, with what it already did."""
    if not fresh:
        earlier = _latest_unfinished(suite, plans, profile_name, list(history), repeat)
        if earlier is not None:
            run_id, results = earlier
            run = SuiteRun(run_id, suite, profile_name, repeat, True, results, system_prompt)
            run._done.update(_answered(results))
            return run
    return SuiteRun(new_result_id(), suite, profile_name, repeat, system_prompt=system_prompt)


def _answered(results: Iterable[RunResult]) -> Counter:
    return Counter((r.suite.pane_key, r.suite.prompt_id) for r in results if r.suite is not None)


def _latest_unfinished(
    suite: Suite,
    plans: Sequence[PanePlan],
    profile_name: str | None,
    history: list[RunResult],
    repeat: int,
) -> tuple[str, list[RunResult]] | None:
    """The newest run of this suite and profile, if it left answers of these panes undone."""
    keys = {pane_key(plan) for plan in plans if plan.runnable}
    runs: dict[str, list[RunResult]] = {}
    for result in history:
        tag = result.suite
        if tag is None or tag.digest != suite.digest or result.profile != profile_name:
            continue
        runs.setdefault(tag.run_id, []).append(result)
    if not runs:
        return None
    run_id = max(runs, key=lambda ident: max(r.created_at for r in runs[ident]))
    results = [r for r in runs[run_id] if r.suite is not None and r.suite.pane_key in keys]
    done = _answered(results)
    if not results or all(
        done[(key, prompt_id)] >= repeat for key in keys for prompt_id in suite.ids
    ):
        return None
    return run_id, results


def describe_start(run: SuiteRun, plans: Sequence[PanePlan]) -> str:
    """One line saying which run this is: new, or resumed (and how much is left)."""
    prompts = len(run.suite.prompts)
    panes = sum(1 for plan in plans if plan.runnable)
    if run.resumed:
        return (
            f"suite {run.suite.name}: resuming run {run.run_id} "
            f"({len(run.earlier)} answers kept, {run.remaining(plans)} to go; --fresh starts over)"
        )
    return (
        f"suite {run.suite.name}: run {run.run_id}, {prompts} prompts x {panes} panes "
        f"= {run.total(plans)} answers"
    )


def summary_counts(results: Sequence[RunResult]) -> dict[str, Any]:
    """Checks passed and made over `results` (for a one-line summary)."""
    made = sum(len(r.suite.checks) for r in results if r.suite)
    passed = sum(r.suite.checks_passed for r in results if r.suite)
    return {"checks": made, "passed": passed}


def answers_left(run: SuiteRun, plans: Sequence[PanePlan]) -> dict[int, set[str]]:
    """For each prompt (by index) that some runnable pane has still to answer: the pane keys
    (`pane_key`) of the panes that have to. Empty when the run is complete."""
    left: dict[int, set[str]] = {}
    for plan in plans:
        if not plan.runnable:
            continue
        for item in run.items_for(plan):
            left.setdefault(item.index, set()).add(pane_key(plan))
    return left
