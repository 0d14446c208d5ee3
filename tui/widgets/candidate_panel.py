"""CandidatePanel: one token's candidates as a bar chart, and the temperature lens beside it.

For the token under the token view's cursor (or the token where answers part) it shows:

- a header: which token, its probability and rank, the entropy of the sampler's
  distribution there and the temperature that was in force;
- one row per candidate, most likely first, the chosen one marked `▸`: its text, a bar
  of its probability as the sampler drew it, the probability;
- the temperature lens (`engines.temperature_lens`): the same candidates' probabilities
  recomputed from their raw logits at 0.2, 0.7, 1.0 and 1.5 and at the pane's current
  temperature, side by side, so a low temperature's focus and a high one's spread read
  from the model's own numbers.

A token from a server has no raw logits (`raw_candidates` is empty): the lens columns
say "—" and the header says why. `candidate_table` is also used by the "where answers
part" screen.
"""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.text import Text
from textual.widgets import Static

from engines.temperature_lens import lens_probabilities
from engines.types import TokenCandidate, TokenProbabilities
from tui.formatting import UNKNOWN
from tui.widgets.bar_chart import block_bar

LENS_TEMPERATURES = (0.2, 0.7, 1.0, 1.5)
"""The temperatures the lens always shows (the seed article's range), plus the pane's own."""

TOKEN_WIDTH = 12
"""Longer token texts are cut to this many cells."""


def token_label(text: str, special: bool = False) -> str:
    """A token's text as one visible, quoted cell: spaces as `·`, line breaks as `↵`."""
    if special:
        return text
    shown = text.replace(" ", "·").replace("\n", "↵").replace("\t", "⇥") or "∅"
    if len(shown) > TOKEN_WIDTH:
        shown = shown[: TOKEN_WIDTH - 1] + "…"
    return shown


def candidate_rows(record: TokenProbabilities) -> list[TokenCandidate]:
    """The candidates to show: the sampler's (most likely first; those it cut fill up the
    list with probability 0), and the chosen token last when it ranked below them."""
    rows = list(record.candidates)
    seen = {candidate.token_id for candidate in rows}
    if record.token_id not in seen:
        rows.append(TokenCandidate(record.token_id, record.text, record.probability, record.logit))
    return rows


def _probability(value: float) -> str:
    if value >= 0.995:
        return "1.00"
    if value < 0.005:
        return ".00" if value > 0 else "0"
    return f"{value:.2f}".lstrip("0")


def token_header(record: TokenProbabilities, total: int | None = None) -> Text:
    """One line about the chosen token: position, probability, rank, entropy, temperature."""
    text = Text(no_wrap=True, overflow="ellipsis")
    where = f"token {record.index + 1}" + (f"/{total}" if total else "")
    text.append(where, style="bold")
    text.append(f" {token_label(record.text)!s}", style="bold")
    text.append(f" · p {record.probability:.2f} · rank {record.rank}", style="")
    text.append(f" · H {record.entropy:.2f}", style="dim")
    text.append(f" · at T {record.temperature:g}", style="dim")
    return text


LENS_COLUMN = 5
"""Cells of each lens column."""


def _lens_headers(temperature: float | None) -> list[str]:
    headers = [f"T{t:g}".replace("T0.", "T.") for t in LENS_TEMPERATURES]
    if temperature is not None:
        headers.append(f"now{temperature:g}".replace("now0.", "now."))
    return headers


def candidate_table(
    record: TokenProbabilities, temperature: float | None, bar_width: int = 10
) -> Text:
    """The candidates with their bars and the lens columns (see the module docstring), as
    fixed-width lines: drawn in well under a millisecond, whatever the answer's length."""
    rows = candidate_rows(record)
    temperatures = list(LENS_TEMPERATURES) + ([temperature] if temperature is not None else [])
    headers = _lens_headers(temperature)
    lenses = [lens_probabilities(rows, t) for t in temperatures] if record.raw_candidates else None
    token_width = min(TOKEN_WIDTH, max(5, *(len(token_label(r.text, r.special)) for r in rows)))
    table = Text(no_wrap=True, overflow="ellipsis")
    table.append(f"  {'token':<{token_width}} {'p':<{bar_width + 5}}", style="bold")
    for header in headers:
        width = max(LENS_COLUMN, len(header) + 1)
        table.append(f"{header:>{width}}", style="bold")
    top = max((candidate.probability for candidate in rows), default=0.0) or 1.0
    for number, candidate in enumerate(rows):
        chosen = candidate.token_id == record.token_id
        table.append("\n")
        table.append("▸ " if chosen else "  ", style="bold green")
        label = token_label(candidate.text, candidate.special)[:token_width]
        style = "bold" if chosen else ("dim" if candidate.special else "")
        table.append(f"{label:<{token_width}} ", style=style)
        bar = block_bar(candidate.probability, top, bar_width)
        table.append(f"{bar:<{bar_width}}", style="green" if chosen else "blue")
        table.append(f"{_probability(candidate.probability):>5}", style="bold" if chosen else "")
        for column, header in enumerate(headers):
            width = max(LENS_COLUMN, len(header) + 1)
            cell = UNKNOWN if lenses is None else _probability(lenses[column][number])
            table.append(f"{cell:>{width}}", style="cyan")
    return table


class CandidatePanel(Static):
    """The candidates of one token and their temperature lens (see the module docstring)."""

    DEFAULT_CSS = """
    CandidatePanel {
        height: auto;
        max-height: 9;
        border-top: hkey $primary-darken-2;
        padding: 0 0;
    }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__("", id=id, classes=classes)
        self.record: TokenProbabilities | None = None
        """The token shown now (None: none yet)."""
        self.bar_width = 10
        """Cells of the longest bar (fewer where the panel stands beside the tokens)."""
        self._shown: tuple | None = None
        self._lines: tuple | None = None

    def show(
        self,
        record: TokenProbabilities | None,
        temperature: float | None,
        total: int | None = None,
        note: str = "",
    ) -> None:
        """Show `record`'s candidates with the lens at `temperature` (redraws only on change)."""
        key = (id(record), temperature, total, note, self.bar_width)
        if key == self._shown:
            return
        self._shown = key
        self.record = record
        lines = (len(candidate_rows(record)), bool(record.raw_candidates)) if record else None
        # Same number of lines as before: no new layout, only this panel is redrawn.
        self.update(
            self._render_panel(record, temperature, total, note), layout=lines != self._lines
        )
        self._lines = lines

    def _render_panel(
        self,
        record: TokenProbabilities | None,
        temperature: float | None,
        total: int | None,
        note: str,
    ) -> RenderableType:
        if record is None:
            return Text(note or "no token under the cursor", style="dim italic")
        parts: list[RenderableType] = [token_header(record, total)]
        parts.append(candidate_table(record, temperature, self.bar_width))
        if not record.raw_candidates:
            parts.append(Text("no raw logits from this model: no temperature lens", style="dim"))
        return Group(*parts)
