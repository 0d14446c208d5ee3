"""The workbench's "Export llama-bench JSON": the records of the last run, per pane."""

from __future__ import annotations

import json
import time

from workbench_fakes import FakeEngines, fake_app, make_profile

from tui.keys import APP_ACTIONS
from tui.pane_controller import PaneState


async def test_the_palette_exports_llama_bench_records(tmp_path):
    assert any(a.title == "Export llama-bench JSON" for a in APP_ACTIONS)
    app = fake_app(make_profile("small", "large"), FakeEngines())
    target = tmp_path / "runs.llama-bench.json"
    async with app.run_test(size=(120, 40)) as pilot:
        deadline = time.monotonic() + 5
        while not all(p.state is PaneState.READY for p in app.workbench.panes):
            assert time.monotonic() < deadline
            await pilot.pause(0.02)
        await pilot.press("ctrl+r")
        while len(app.results) < 2:
            assert time.monotonic() < deadline + 5
            await pilot.pause(0.02)
        app.action_export("llama-bench", str(target))
        while not target.exists():
            assert time.monotonic() < deadline + 10, "no export written"
            await pilot.pause(0.02)
    records = json.loads(target.read_text())
    tg = [r for r in records if r["n_gen"]]
    assert len(tg) == 2 and all(r["avg_ts"] == 100.0 for r in tg)  # the fakes' fixed speed
    assert all(r["build_commit"] for r in records)
