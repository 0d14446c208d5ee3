"""A warning that a model or server repeats on every run shows once in its pane header."""

from __future__ import annotations

from test_app_flows import SIZE, all_in, panes, ready, wait_until
from textual.widgets import Static
from workbench_fakes import FakeEngines, FixedFiguresHandle, fake_app, make_profile

from engines.fake import FakeScript
from engines.protocol import Warned
from tui.pane_controller import PaneState

IGNORED = "the server ignored top_k"


class WarningHandle(FixedFiguresHandle):
    """A remote-like model that says what it ignored on every request, as servers do."""

    def generate(self, request) -> None:
        self._events.put(Warned(IGNORED))
        super().generate(request)


class WarningEngines(FakeEngines):
    def __call__(self, plan):
        handle = WarningHandle(FakeScript(tokens=("a", "b"), info={"warnings": ("load warning",)}))
        self.handles[plan.model_ref].append(handle)
        return handle


def header_text(pane) -> str:
    return str(pane.query_one(".pane--model", Static).render())


async def test_a_repeated_warning_is_shown_once() -> None:
    app = fake_app(make_profile("remote"), WarningEngines())
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot, app)
        (pane,) = panes(app)
        for run in range(1, 4):
            await pilot.press("ctrl+r")
            await wait_until(pilot, lambda n=run: len(pane.controller.handle.requests) == n)
            await wait_until(pilot, all_in(app, PaneState.DONE))
        assert pane.controller.warnings == ["load warning", IGNORED]
        header = header_text(pane)
        assert header.count(IGNORED) == 1 and header.count("load warning") == 1
        assert header.splitlines()[1:] == ["⚠ load warning", f"⚠ {IGNORED}"]
        line = pane.query_one(".pane--model", Static)
        assert line.has_class("-warned") and line.size.height == 3  # each warning readable
