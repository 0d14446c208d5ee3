"""Screenshots of the token view (`v`) and of where answers part (`w`), at 80x24 and 120x40.

Fixed fake streams with scripted token records (`engines.fake.fake_token_record`), fixed
final figures, no blinking cursors, the resource panel hidden (see
test_snapshots_main.settle). Regenerate with
`pytest tests/tui/test_snapshots_tokens.py --snapshot-update` and look.
"""

from __future__ import annotations

from test_snapshots_main import engines_for_snapshots, settle
from workbench_fakes import fake_app, make_profile

from engines.fake import FakeScript

COLD = ("The ", "sky ", "is ", "blue ", "because ", "air ", "scatters ", "blue ", "light.")
HOT = ("The ", "sky ", "is ", "blue ", "since ", "tiny ", "molecules ", "bend ", "light.")


def token_view_app():
    engines = engines_for_snapshots(cold=FakeScript(tokens=COLD), hot=FakeScript(tokens=HOT))
    return fake_app(make_profile("cold", "hot", temperature=0.7), engines)


async def open_token_view(pilot) -> None:
    await settle(pilot, run=True)
    await pilot.press("escape", "v", "right", "right", "right", "right")
    await pilot.pause(0.2)


def test_token_view_at_120x40(snap_compare) -> None:
    assert snap_compare(token_view_app(), terminal_size=(120, 40), run_before=open_token_view)


def test_token_view_at_80x24(snap_compare) -> None:
    assert snap_compare(token_view_app(), terminal_size=(80, 24), run_before=open_token_view)


def test_where_answers_part_at_120x40(snap_compare) -> None:
    async def run_before(pilot) -> None:
        await settle(pilot, run=True)
        await pilot.press("escape", "w")
        await pilot.pause(0.3)

    assert snap_compare(token_view_app(), terminal_size=(120, 40), run_before=run_before)
