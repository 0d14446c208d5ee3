"""The comparison `llmbench run` runs: --profile and/or --model panes, with the pane options
(--n-ctx, --n-gpu-layers, --threads, --force) and the sampling sweeps applied.

Every problem is a one-line `UsageProblem` naming the option the user typed, raised before
anything loads.
"""

from __future__ import annotations

from typing import Any

from tui.commands.run_options import SWEEP_OPTIONS
from tui.commands.run_usage import UsageProblem

COMMAND_LINE_PROFILE = "command-line"
"""The name of the comparison built from --model options alone."""

_SETTING_OPTIONS = (
    ("n_ctx", "n_ctx", "--n-ctx"),
    ("n_gpu_layers", "n_gpu_layers", "--n-gpu-layers"),
    ("n_threads", "threads", "--threads"),
)
"""(model setting, click parameter, the flag a user types) for the options that set a model
setting on every pane; an error names the flag typed."""


def profile_to_run(options: dict[str, Any]):
    """The profile to run: --profile and/or --model panes, with the options applied."""
    from pydantic import ValidationError

    from profiles.errors import ProfileError
    from profiles.schema import PaneSpec, Profile

    if not options["profile_ref"] and not options["models"]:
        raise UsageProblem("nothing to run: pass --profile NAME|PATH and/or --model REF")
    try:
        if options["profile_ref"]:
            from profiles.store import load_profile

            profile = load_profile(options["profile_ref"])
        else:
            profile = None
        if options["models"]:
            panes = [PaneSpec(model=ref) for ref in options["models"]]
        else:
            panes = list(profile.panes) if profile else []
    except ProfileError as error:
        raise UsageProblem(str(error)) from None
    except ValidationError as error:
        raise UsageProblem(_validation_line(error, "--model")) from None
    _check_model_refs(panes, None if options["models"] else options["profile_ref"])
    panes = [_with_settings(pane, options) for pane in panes]
    panes = _with_sweeps(panes, options)
    try:
        if profile is None:
            return Profile(name=COMMAND_LINE_PROFILE, panes=panes)
        return profile.model_copy(update={"panes": panes})
    except ValidationError as error:
        raise UsageProblem(_validation_line(error, "the comparison")) from None


def _check_model_refs(panes: list, profile_ref: str | None) -> None:
    """Refuse a malformed model reference (hf:foo) as bad usage before anything loads.
    `profile_ref` names the profile the panes come from (None: from --model)."""
    from engines.models.references import ModelRefError, parse_model_ref

    for index, pane in enumerate(panes):
        try:
            parse_model_ref(pane.model)
        except ModelRefError as error:
            where = f"profile {profile_ref}: panes[{index}].model" if profile_ref else "--model"
            raise UsageProblem(f"{where}: {error}") from None


def _with_settings(pane, options: dict[str, Any]):
    from pydantic import ValidationError

    from profiles.schema import ModelSettingsSpec

    changes = {
        key: options[param] for key, param, _flag in _SETTING_OPTIONS if options[param] is not None
    }
    if options["force"]:
        changes["allow_oversize"] = True
    if not changes:
        return pane
    try:
        settings = ModelSettingsSpec(**{**pane.settings.model_dump(), **changes})
    except ValidationError as error:
        flags = {key: flag for key, _param, flag in _SETTING_OPTIONS}
        raise UsageProblem(_validation_line(error, "option", flags=flags)) from None
    return pane.model_copy(update={"settings": settings})


def _with_sweeps(panes: list, options: dict[str, Any]) -> list:
    from pydantic import ValidationError

    from profiles.plan import expand_grid

    sweeps = {name: options[name] for name in SWEEP_OPTIONS if options[name] is not None}
    if not sweeps:
        return panes
    try:
        return expand_grid(panes, sweeps)
    except ValidationError as error:
        flags = {name: "--" + name.replace("_", "-") for name in SWEEP_OPTIONS}
        raise UsageProblem(_validation_line(error, "option", flags=flags)) from None


def _validation_line(error, what: str, flags: dict[str, str] | None = None) -> str:
    """The first problem of a pydantic error as one line, naming the option where possible
    (`flags`: field name → the option the user typed for it)."""
    item = error.errors(include_url=False)[0]
    loc = [str(part) for part in item.get("loc", ()) if not isinstance(part, int)]
    if flags is not None and loc:
        where = flags.get(loc[-1], f"--{loc[-1].replace('_', '-')}")
    else:
        where = f"{what} ({'.'.join(loc)})" if loc and not what.startswith("--") else what
    value = item.get("input")
    shown = f" (got {value!r})" if isinstance(value, str | int | float) else ""
    return f"{where}: {item.get('msg', 'invalid value').lower()}{shown}"
