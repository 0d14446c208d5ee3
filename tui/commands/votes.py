"""`llmbench votes [PROFILE]`: the standings from the blind votes beside the history.

One row per model: votes, win rate with its 95 % Wilson interval, and the Bradley–Terry
rating with three models or more (`profiles.standings`). Exit codes: 0, also with no
votes (one line says so); 2 a profile that cannot be found or read (one line).
"""

from __future__ import annotations

import click

from profiles.errors import ProfileError
from profiles.standings import Standing, standings_by_model
from profiles.store import load_profile, resolve_profile
from profiles.votes import Vote, read_votes, votes_for_profile, votes_path
from tui.commands.profiles import BAD_INPUT, DASH, _table

RULES = (
    'A tie counts half a win, "both bad" no win for either; '
    "ratings (Bradley–Terry, 1000 = average) need three models or more."
)


def standings_rows(standings: dict[str, Standing]) -> list[list[str]]:
    """Table rows, best first: model, votes, win rate (interval), rating."""
    ordered = sorted(
        standings.values(),
        key=lambda s: (-(s.rating if s.rating is not None else 0.0), -s.win_rate, s.model),
    )
    return [
        [
            standing.model,
            str(standing.votes),
            f"{standing.win_rate * 100:.0f} % "
            f"({standing.win_low * 100:.0f}–{standing.win_high * 100:.0f} %)",
            DASH if standing.rating is None else f"{standing.rating:.0f}",
        ]
        for standing in ordered
    ]


@click.command()
@click.argument("profile", required=False, metavar="[PROFILE]")
def votes(profile: str | None) -> None:
    """Print the standings from the blind votes (all of them, or one profile's).

    PROFILE is a profile name or file; votes are matched by the profile's name.
    """
    every, warnings = read_votes()
    for warning in warnings:
        click.echo(f"warning: {warning}", err=True)
    name = _profile_name(profile, every) if profile else None
    chosen = votes_for_profile(every, name)
    if not chosen:
        where = f" for profile {name}" if name else ""
        click.echo(
            f"no votes yet{where} in {votes_path()}: "
            "cast some in the workbench (Blind vote, key v, after a run on two panes or more)"
        )
        return
    standings = standings_by_model(chosen)
    scope = f"profile {name}" if name else "every profile"
    prompts = len({(vote.prompt, vote.system_prompt) for vote in chosen})
    click.echo(
        f"Standings from {_count(len(chosen), 'vote')} on {_count(prompts, 'prompt')} ({scope})"
    )
    click.echo(
        _table(
            ["model", "votes", "win rate (95 % interval)", "rating"],
            standings_rows(standings),
            right=(1,),
        )
    )
    click.echo(RULES)


def _count(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _profile_name(profile: str, every: list[Vote]) -> str:
    """The name votes carry for `profile`: a known profile's name, or a name votes use."""
    if any(vote.profile == profile for vote in every):
        return profile
    try:
        return load_profile(resolve_profile(profile)).name
    except ProfileError as error:
        click.echo(f"error: {error}", err=True)
        raise SystemExit(BAD_INPUT) from None
