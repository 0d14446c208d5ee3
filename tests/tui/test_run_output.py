"""What `llmbench run` prints: progress lines or a redrawn bar, and the results table."""

from __future__ import annotations

import io
import statistics

from engines.fake import FakeModelHandle, FakeScript
from engines.types import ModelSettings, SamplingParams
from profiles.plan import PanePlan
from profiles.run_report import PaneFailure, PaneProgress
from profiles.runner import run_comparison
from tui.commands.run_output import ProgressPrinter, failures_text, results_table


def plan(index: int, label: str, temperature: float = 0.7) -> PanePlan:
    return PanePlan(
        index=index,
        label=label,
        model_ref=f"demo:{label}",
        kind="local",
        settings=ModelSettings(path=f"/m/{label}.gguf", n_threads=1, label=label),
        sampling=SamplingParams(temperature=temperature, max_tokens=8),
    )


def test_plain_progress_is_one_line_per_event_worth_keeping() -> None:
    stream = io.StringIO()
    printer = ProgressPrinter(stream, total_panes=2, tty=False)
    run_comparison(
        [plan(0, "small"), plan(1, "big")], "Hi", repeat=2, warmup=1, on_progress=printer,
        history=False,
        handle_factory=lambda p: FakeModelHandle(
            FakeScript(fail_load="not a GGUF file") if p.index == 1 else FakeScript()
        ),
    )  # fmt: skip
    printer.close()
    lines = stream.getvalue().splitlines()
    assert lines[:2] == ["[1/2] small: loading", "[1/2] small: loaded"]
    assert lines[2].startswith("[1/2] small: warm-up 1/1: 4 tokens, ")
    assert lines[3].startswith("[1/2] small: run 1/2: 4 tokens, ")
    assert lines[4].startswith("[1/2] small: run 2/2: 4 tokens, ") and lines[4].endswith(
        "stop: stop"
    )
    assert lines[5:] == ["[2/2] big: loading", "[2/2] big: FAILED: not a GGUF file"]
    assert "\x1b" not in stream.getvalue() and "\r" not in stream.getvalue()


def test_terminal_progress_redraws_one_status_line_and_leaves_it_clean() -> None:
    stream = io.StringIO()
    printer = ProgressPrinter(stream, total_panes=1, tty=True)
    printer(PaneProgress(0, "small", "loading"))
    printer(PaneProgress(0, "small", "generating", tokens=4, max_tokens=8))
    printer(PaneProgress(0, "small", "generated", tokens=8, max_tokens=8, message="8 tokens"))
    printer.close()
    text = stream.getvalue()
    assert "small loading [............]" in text
    assert "\r\x1b[2K[1/1] small: run 1/1: 8 tokens\n" in text
    assert text.endswith("\r\x1b[2K")  # the status line is wiped at the end


def test_table_shows_mean_and_standard_deviation_and_failed_panes() -> None:
    scripts = {0: FakeScript(), 1: FakeScript(fail_load="no such file")}
    plans = [plan(0, "small", 0.2), plan(1, "missing", 1.2)]
    outcome = run_comparison(
        plans,
        "Hi",
        repeat=3,
        history=False,
        handle_factory=lambda p: FakeModelHandle(scripts[p.index]),
    )
    table = results_table(plans, outcome, show_text=True)
    lines = table.splitlines()
    assert lines[0].startswith("Mode: sequential") and "mean ± standard deviation" in lines[0]
    header, small, missing = lines[1], lines[2], lines[3]
    assert header.split()[:3] == ["pane", "model", "temp"]
    assert small.startswith("small") and " 0.2 " in small and small.rstrip().endswith("stop")
    ttfts = [r.figures.ttft_s for r in outcome.results]
    assert f"{statistics.fmean(ttfts):.3f} ± {statistics.stdev(ttfts):.3f}" in small
    assert "12 ± 0" in small and "4 ± 0" in small  # n_prompt, n_gen
    assert missing.startswith("missing") and missing.rstrip().endswith("FAILED") and "—" in missing
    assert len(header) >= len(small.rstrip()) - 2  # columns line up under their titles
    assert "--- small (run 3) ---" in table and "Hello, world!" in table


def test_failures_text_quotes_the_log_tail() -> None:
    failure = PaneFailure(1, "big", "big.gguf", "the model's worker crashed: killed by signal 9",
                          "line 1\n\nllama_model_load: error loading model\n")  # fmt: skip
    text = failures_text([failure])
    assert "  [2] big (big.gguf): the model's worker crashed: killed by signal 9" in text
    assert "      llama_model_load: error loading model" in text
