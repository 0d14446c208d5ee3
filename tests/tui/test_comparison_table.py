"""The comparison table and bar charts, each mounted alone in a small harness app."""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.widgets import DataTable

from engines.fidelity.figures import FidelityFigures
from engines.types import GenerationStats, ModelInfo
from tui.widgets.bar_chart import EIGHTHS, BarChart, block_bar
from tui.widgets.comparison_table import (
    BEST_MARK,
    COLUMNS,
    ComparisonTable,
    describe_model,
    measured_columns,
    starred_cells,
)


def make_stats(**changes: object) -> GenerationStats:
    values: dict = dict(
        stop_reason="length",
        prompt_mode="chat",
        prompt_tokens=20,
        generated_tokens=48,
        ttft_s=0.25,
        prompt_tps=800.0,
        decode_tps=100.0,
        engine_decode_tps=110.0,
        elapsed_s=0.8,
        peak_rss_mib=300.0,
    )
    values.update(changes)
    return GenerationStats(**values)


def make_info(n_params: int = 135_000_000, quantization: str = "Q4_1") -> ModelInfo:
    return ModelInfo(
        path="/m/model.gguf",
        file_name="model.gguf",
        file_size=1,
        name="model",
        architecture="llama",
        n_params=n_params,
        quantization=quantization,
        n_ctx_train=8192,
        n_ctx=1024,
        n_layers=30,
        has_chat_template=True,
        backend="CPU",
        n_gpu_layers_requested=0,
        n_gpu_layers_offloaded=0,
        n_threads=1,
        llama_cpp_python_version="x",
    )


FAST_SMALL = ("small", make_stats(ttft_s=0.1, decode_tps=200.0, peak_rss_mib=250.0), make_info())
SLOW_LARGE = (
    "large",
    make_stats(ttft_s=0.4, decode_tps=50.0, peak_rss_mib=900.0, prompt_tps=None),
    make_info(270_000_000, "Q4_K_M"),
)
FAILED = (
    "broken",
    make_stats(
        stop_reason="error",
        generated_tokens=0,
        ttft_s=None,
        decode_tps=None,
        engine_decode_tps=None,
        prompt_tps=None,
        peak_rss_mib=None,
        error="boom",
    ),
    None,
)


class TableApp(App):
    def compose(self) -> ComposeResult:
        yield ComparisonTable([FAST_SMALL, SLOW_LARGE, FAILED])


def test_stars_pick_lowest_time_and_memory_and_highest_speed():
    small, large, broken = starred_cells([FAST_SMALL, SLOW_LARGE, FAILED], "sequential")
    # engine speed ties (110.0 both): both get it; prompt speed: only one pane knows it
    assert small == {"ttft", "decode_tps", "peak_rss", "engine_tps"}
    assert large == {"engine_tps"}
    assert broken == set()


def test_stars_with_a_single_pane_mark_nothing():
    assert starred_cells([FAST_SMALL], "sequential") == [set()]


def test_a_cancelled_or_failed_pane_never_gets_a_star_even_with_better_figures():
    cancelled = (
        "stopped",
        make_stats(
            stop_reason="cancelled",
            ttft_s=0.01,
            decode_tps=999.0,
            engine_decode_tps=999.0,
            peak_rss_mib=1.0,
        ),
        make_info(),
    )
    failed = (
        "failed",
        make_stats(
            stop_reason="error", ttft_s=0.01, decode_tps=999.0, peak_rss_mib=1.0, error="boom"
        ),
        make_info(),
    )
    stars = starred_cells([FAST_SMALL, SLOW_LARGE, cancelled, failed], "sequential")
    assert stars[2] == set() and stars[3] == set()
    assert {"ttft", "decode_tps", "peak_rss"} <= stars[0]


def test_equal_shown_values_all_get_the_star():
    a = ("a", make_stats(decode_tps=100.04, ttft_s=0.301), make_info())
    b = ("b", make_stats(decode_tps=100.01, ttft_s=0.304), make_info())
    c = ("c", make_stats(decode_tps=90.0, ttft_s=0.5), make_info())
    stars = starred_cells([a, b, c], "sequential")
    assert "decode_tps" in stars[0] and "decode_tps" in stars[1]  # both show 100.0
    assert "ttft" in stars[0] and "ttft" in stars[1]  # both show 0.30
    assert "decode_tps" not in stars[2]


def test_cached_prompt_figures_do_not_compete():
    cold = ("cold", make_stats(prompt_tps=800.0, ttft_s=0.25), make_info())
    cached = (
        "cached",
        make_stats(prompt_tps=13.0, ttft_s=0.05, cached_prompt_tokens=19),
        make_info(),
    )
    other = ("other", make_stats(prompt_tps=600.0, ttft_s=0.3), make_info())
    stars = starred_cells([cold, cached, other], "sequential")
    assert "ttft" not in stars[1] and "prompt_tps" not in stars[1]
    assert {"ttft", "prompt_tps"} <= stars[0]


def test_parallel_mode_stars_no_speed():
    small, large, _ = starred_cells([FAST_SMALL, SLOW_LARGE, FAILED], "parallel")
    assert small == {"peak_rss"} and large == set()


def test_columns_nobody_measured_are_left_out():
    shown, unmeasured = measured_columns([FAST_SMALL, FAILED])
    assert [c.key for c in unmeasured] == ["gpu_mem", "energy"]
    with_gpu = (
        "gpu",
        make_stats(
            gpu_mem_mib=512.0, energy_j=3.5, mean_logprob=-0.5, perplexity=1.65, mean_entropy=0.4
        ),
        None,
    )
    shown, unmeasured = measured_columns([FAST_SMALL, with_gpu])
    assert unmeasured == [] and [c.key for c in shown] == [c.key for c in COLUMNS]


def test_describe_model():
    assert describe_model(make_info()) == "135M Q4_1"
    assert describe_model(make_info(1_500_000_000, "Q8_0")) == "1.5B Q8_0"
    assert describe_model(None) == "—"


async def test_table_marks_best_and_shows_unknown_as_dash():
    async with TableApp().run_test(size=(120, 30)) as pilot:
        table = pilot.app.query_one(DataTable)
        assert table.row_count == 3
        rows = [[str(cell) for cell in table.get_row_at(i)] for i in range(3)]
        headers = [str(column.key.value) for column in table.ordered_columns]
        assert "gpu_mem" not in headers and "energy" not in headers  # nobody measured them
        legend = str(pilot.app.query_one(".comparison--legend").render())
        assert "Not measured: GPU memory, energy" in legend
        small, large, broken = (dict(zip(headers, row, strict=True)) for row in rows)
        assert small["ttft"] == f"{BEST_MARK} 0.10"
        assert small["decode_tps"] == f"{BEST_MARK} 200.0"
        assert large["decode_tps"] == "50.0"
        assert large["prompt_tps"] == "—"
        assert small["prompt_tps"] == "800"  # the only known value is not marked best
        assert broken["ttft"] == "—" and broken["decode_tps"] == "—" and broken["peak_rss"] == "—"
        assert broken["tokens"] == "0"  # a real count of zero stays 0
        assert broken["stop"] == "error"
        assert small["model"] == "135M Q4_1" and broken["model"] == "—"
        assert all(BEST_MARK not in value for value in broken.values())


async def test_parallel_run_says_so_and_cached_figures_are_marked():
    cached = (
        "cached",
        make_stats(prompt_tps=13.0, ttft_s=0.05, cached_prompt_tokens=19),
        make_info(),
    )
    async with TableApp().run_test(size=(120, 30)) as pilot:
        comparison = pilot.app.query_one(ComparisonTable)
        comparison.show_results([FAST_SMALL, SLOW_LARGE, cached], mode="parallel")
        await pilot.pause()
        table = pilot.app.query_one(DataTable)
        headers = [str(column.key.value) for column in table.ordered_columns]
        rows = [dict(zip(headers, map(str, table.get_row_at(i)), strict=True)) for i in range(3)]
        legend = str(pilot.app.query_one(".comparison--legend").render())
        assert "Ran in parallel: speeds not comparable" in legend
        assert "↺ prompt served from the cache" in legend
        assert rows[0]["decode_tps"] == "200.0" and rows[0]["ttft"] == "0.10"  # no ★
        assert rows[0]["peak_rss"] == f"{BEST_MARK} 250"  # memory still compares
        assert rows[2]["prompt_tps"] == "↺ 13" and rows[2]["ttft"] == "↺ 0.05"
        assert pilot.app.query_one("#chart-decode", BarChart).best_labels == frozenset()
        assert pilot.app.query_one("#chart-memory", BarChart).best_labels == {"small"}
        comparison.show_results([FAST_SMALL, SLOW_LARGE], mode="sequential")
        await pilot.pause()
        legend = str(pilot.app.query_one(".comparison--legend").render())
        assert "parallel" not in legend and "↺" not in legend


async def test_show_results_replaces_rows_and_charts():
    async with TableApp().run_test(size=(120, 30)) as pilot:
        comparison = pilot.app.query_one(ComparisonTable)
        comparison.show_results([SLOW_LARGE])
        await pilot.pause()
        assert pilot.app.query_one(DataTable).row_count == 1
        assert pilot.app.query_one("#chart-decode", BarChart).bars == (("large", 50.0),)
        comparison.clear_results()
        await pilot.pause()
        assert pilot.app.query_one(DataTable).row_count == 0


def test_block_bar_scales_to_the_maximum():
    assert block_bar(10, 10, 5) == "█████"
    assert block_bar(5, 10, 4) == "██"
    assert block_bar(1, 10, 2) == "▎"  # 1.6 eighths round to 2
    assert block_bar(0, 10, 5) == ""
    assert block_bar(0.001, 10, 5) == "▏"  # a tiny positive value still shows


def eighths(line: str) -> int:
    """The length of the bar drawn in a chart line, in eighths of a cell."""
    return sum(8 if ch == "█" else EIGHTHS.index(ch) for ch in line if ch in EIGHTHS[1:] + "█")


class ChartApp(App):
    def compose(self) -> ComposeResult:
        yield BarChart("decode", "tok/s", bars=[("a", 100.0), ("bb", 50.0), ("c", None)])


async def test_bar_chart_draws_proportional_bars_and_dash_for_unknown():
    async with ChartApp().run_test(size=(40, 6)) as pilot:
        chart = pilot.app.query_one(BarChart)
        lines = chart.render().plain.splitlines()
        assert lines[0].startswith("decode (tok/s, higher is better)")
        full, half, unknown = lines[1:]
        assert eighths(full) == 2 * eighths(half)
        assert full.rstrip().endswith("100") and half.rstrip().endswith("50.0")
        assert unknown.rstrip().endswith("—") and "█" not in unknown
        assert chart.best_value() == 100.0


REFERENCE_FIGURES = FidelityFigures(ppl=12.5, ppl_err=0.4, is_reference=True)
QUANT_FIGURES = FidelityFigures(ppl=13.1, ppl_err=0.4, kld=0.0312, same_top_pct=91.5)
WORSE_QUANT_FIGURES = FidelityFigures(ppl=15.0, ppl_err=0.5, kld=0.1205, same_top_pct=80.25)


async def test_fidelity_columns_join_each_pane_beside_its_cost_figures():
    """After a fidelity run: PPL, KLD and top-1 % per pane, "ref" for the reference, the
    best of each among the others starred, a failed pass "—", and a pane measured for
    fidelity that never generated still gets a row; a KLD bar chart appears."""
    async with TableApp().run_test(size=(160, 40)) as pilot:
        comparison = pilot.app.query_one(ComparisonTable)
        assert not pilot.app.query_one("#chart-kld").display
        comparison.show_fidelity(
            {
                "small": QUANT_FIGURES,
                "large": REFERENCE_FIGURES,
                "broken": FidelityFigures(error="model failed to load"),
                "q2": WORSE_QUANT_FIGURES,
            }
        )
        await pilot.pause()
        table = pilot.app.query_one(DataTable)
        headers = [str(column.key.value) for column in table.ordered_columns]
        assert headers[-4:] == ["fidelity_ppl", "fidelity_kld", "fidelity_top1", "stop"]
        rows = {
            row["pane"]: row
            for row in (
                dict(zip(headers, [str(c) for c in table.get_row_at(i)], strict=True))
                for i in range(table.row_count)
            )
        }
        assert set(rows) == {"small", "large", "broken", "q2"}
        assert rows["large"]["fidelity_ppl"] == f"{BEST_MARK} 12.50"
        assert rows["large"]["fidelity_kld"] == "ref" and rows["large"]["fidelity_top1"] == "ref"
        assert rows["small"]["fidelity_kld"] == f"{BEST_MARK} 0.0312"
        assert rows["small"]["fidelity_top1"] == f"{BEST_MARK} 91.5"
        assert rows["q2"]["fidelity_kld"] == "0.1205" and rows["q2"]["fidelity_top1"] == "80.2"
        assert rows["broken"]["fidelity_ppl"] == "—" and rows["broken"]["fidelity_kld"] == "—"
        assert rows["q2"]["stop"] == "not run" and rows["q2"]["decode_tps"] == "—"
        legend = str(pilot.app.query_one(".comparison--legend").render())
        assert "PPL: perplexity" in legend
        chart = pilot.app.query_one("#chart-kld", BarChart)
        assert chart.display
        assert dict(chart.bars) == {"small": 0.0312, "large": None, "broken": None, "q2": 0.1205}


async def test_the_bar_charts_never_mark_a_cancelled_pane_best() -> None:
    stopped = (
        "stopped",
        make_stats(stop_reason="cancelled", decode_tps=900.0, peak_rss_mib=10.0),
        make_info(),
    )
    async with TableApp().run_test(size=(120, 30)) as pilot:
        comparison = pilot.app.query_one(ComparisonTable)
        comparison.show_results([FAST_SMALL, SLOW_LARGE, stopped], mode="sequential")
        await pilot.pause()
        assert pilot.app.query_one("#chart-decode", BarChart).best_labels == {"small"}
        assert pilot.app.query_one("#chart-memory", BarChart).best_labels == {"small"}
