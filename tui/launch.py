"""Starts the workbench from the command line's options.

`--profile NAME|PATH` opens a profile; `--model REF` (repeatable) compares those models
(with a profile, they replace its panes, as in `llmbench run`; without one, they take the
bundled `small-vs-large` prompt and sampling values); no options open `small-vs-large`.
Problems with the options are one line on stderr and exit status 2.
"""

from __future__ import annotations

import sys

DEFAULT_PROFILE = "small-vs-large"
"""The bundled profile the workbench opens with no options."""

MODELS_PROFILE_NAME = "models"
"""The name of the profile built from `--model` options alone."""


class LaunchError(Exception):
    """Options that cannot start the workbench; the message is one line a person can act on."""


def startup_profile(profile: str | None, models: list[str]):
    """The profile to open for these options."""
    from engines.models.references import ModelRefError, parse_model_ref
    from profiles.errors import ProfileError
    from profiles.schema import PaneSpec
    from profiles.store import load_profile

    try:
        base = load_profile(profile or DEFAULT_PROFILE)
    except ProfileError as error:
        raise LaunchError(str(error)) from None
    if not models:
        return base
    blank = [ref for ref in models if not ref.strip()]
    if blank:
        raise LaunchError("--model needs a model reference, e.g. --model demo:smollm2-135m")
    for ref in models:
        try:
            parse_model_ref(ref)
        except ModelRefError as error:
            raise LaunchError(f"--model: {error}") from None
    update: dict[str, object] = {"panes": [PaneSpec(model=ref) for ref in models]}
    if profile is None:
        update |= {"name": MODELS_PROFILE_NAME, "description": "Models named on the command line."}
    return base.model_copy(update=update)


def launch_workbench(profile: str | None, models: list[str], history: bool = True) -> None:
    """Open the workbench and run it until the user quits (`history`: append results to
    the history file)."""
    try:
        chosen = startup_profile(profile, models)
    except LaunchError as error:
        print(f"llmbench: {error}", file=sys.stderr)
        sys.exit(2)
    from tui.app import make_app

    make_app(chosen, history=history).run()
