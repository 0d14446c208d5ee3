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
from rich.table import Table
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


def candidate_table(
    record: TokenProbabilities, temperature: float | None, bar_width: int = 10
) -> Table:
    """The candidates with their bars and the lens columns (see the module docstring)."""
    rows = candidate_rows(record)
    lens_ready = bool(record.raw_candidates)
    temperatures = list(LENS_TEMPERATURES)
    headers = [f"T{t:g}".replace("T0.", "T.") for t in temperatures]
    if temperature is not None:
        temperatures.append(temperature)
        headers.append(f"now{temperature:g}".replace("now0.", "now."))
    lenses = [lens_probabilities(rows, t) if lens_ready else None for t in temperatures]
    table = Table(box=None, padding=(0, 1, 0, 0), show_edge=False, pad_edge=False, expand=False)
    table.add_column(" ", width=1, no_wrap=True)
    table.add_column("token", max_width=TOKEN_WIDTH, no_wrap=True)
    table.add_column("p", width=bar_width + 5, no_wrap=True)
    for header in headers:
        table.add_column(header, justify="right", no_wrap=True, style="cyan")
    top = max((candidate.probability for candidate in rows), default=0.0) or 1.0
    for number, candidate in enumerate(rows):
        chosen = candidate.token_id == record.token_id
        bar = Text(block_bar(candidate.probability, top, bar_width).ljust(bar_width))
        bar.stylize("green" if chosen else "blue")
        bar.append(f"{_probability(candidate.probability):>5}", style="bold" if chosen else "")
        cells = [
            lens[number] if lens is not None else None for lens in lenses
        ]  # one per temperature
        table.add_row(
            Text("▸", style="bold green") if chosen else "",
            Text(
                token_label(candidate.text, candidate.special),
                style="bold" if chosen else ("dim" if candidate.special else ""),
            ),
            bar,
            *(UNKNOWN if cell is None else _probability(cell) for cell in cells),
        )
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
        self.update(self._render_panel(record, temperature, total, note))

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
