"""The comparison plan: resolved models, threads shared by parallel panes, sampling overrides."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from engines.machine.threads import allocate_threads, available_cores
from profiles.plan import PanePlan, build_plan, expand_grid, open_handle
from profiles.schema import ModelSettingsSpec, PaneSpec, Profile, SamplingOverrides, SamplingValues


def fake_resolver(known: dict[str, str]):
    """Resolves the references in `known`; anything else fails as a missing file would."""

    def resolve(ref: str) -> Path:
        if ref not in known:
            raise FileNotFoundError(f"{ref}: no such model file")
        return Path(known[ref])

    return resolve


RESOLVE = fake_resolver({"small.gguf": "/models/small.gguf", "large.gguf": "/models/large.gguf"})


def profile(*panes: PaneSpec, mode: str = "parallel", **sampling: object) -> Profile:
    return Profile(name="t", mode=mode, sampling=SamplingValues(**sampling), panes=list(panes))


def test_each_pane_gets_its_resolved_path_label_and_settings() -> None:
    plans = build_plan(
        profile(
            PaneSpec(model="small.gguf", label="Small", settings=ModelSettingsSpec(n_ctx=512)),
            PaneSpec(model="large.gguf", settings=ModelSettingsSpec(n_gpu_layers=-1)),
        ),
        resolve=RESOLVE,
    )
    assert [p.index for p in plans] == [0, 1]
    assert [p.kind for p in plans] == ["local", "local"]
    assert [p.settings.path for p in plans] == ["/models/small.gguf", "/models/large.gguf"]
    assert plans[0].label == "Small" and plans[0].settings.label == "Small"
    assert plans[1].label  # described from the reference when no label is given
    assert plans[0].settings.n_ctx == 512 and plans[1].settings.n_gpu_layers == -1
    assert all(p.error is None and p.runnable for p in plans)


def test_parallel_panes_share_the_cores_and_sequential_panes_get_them_all() -> None:
    panes = (PaneSpec(model="small.gguf"), PaneSpec(model="large.gguf"))
    parallel = build_plan(profile(*panes, mode="parallel"), resolve=RESOLVE)
    sequential = build_plan(profile(*panes, mode="sequential"), resolve=RESOLVE)
    cores = available_cores()
    assert [p.settings.n_threads for p in sequential] == [cores, cores]
    shared = [p.settings.n_threads for p in parallel]
    assert shared == allocate_threads(2, [None, None], parallel=True)
    assert sum(shared) <= max(cores, 2)  # together they never oversubscribe the cores
    assert all(n >= 1 for n in shared)


def test_parallel_argument_overrides_the_profile_mode() -> None:
    panes = (PaneSpec(model="small.gguf"), PaneSpec(model="large.gguf"))
    forced_sequential = build_plan(
        profile(*panes, mode="parallel"), parallel=False, resolve=RESOLVE
    )
    assert [p.settings.n_threads for p in forced_sequential] == [available_cores()] * 2


def test_explicit_threads_are_kept() -> None:
    plans = build_plan(
        profile(
            PaneSpec(model="small.gguf", settings=ModelSettingsSpec(n_threads=3)),
            PaneSpec(model="large.gguf"),
        ),
        resolve=RESOLVE,
    )
    assert plans[0].settings.n_threads == 3
    assert plans[1].settings.n_threads == allocate_threads(2, [3, None], parallel=True)[1]


def test_pane_overrides_win_over_profile_defaults() -> None:
    plans = build_plan(
        profile(
            PaneSpec(model="small.gguf", sampling=SamplingOverrides(temperature=0.2, seed=7)),
            PaneSpec(model="large.gguf"),
            temperature=1.1,
            max_tokens=64,
        ),
        resolve=RESOLVE,
    )
    assert plans[0].sampling.temperature == 0.2 and plans[0].sampling.seed == 7
    assert plans[0].sampling.max_tokens == 64
    assert plans[1].sampling.temperature == 1.1 and plans[1].sampling.seed == 42


def test_a_bad_reference_stays_in_its_pane_and_never_raises() -> None:
    plans = build_plan(
        profile(PaneSpec(model="small.gguf"), PaneSpec(model="missing.gguf", label="Gone")),
        resolve=RESOLVE,
    )
    assert plans[0].runnable and plans[0].settings.path == "/models/small.gguf"
    assert not plans[1].runnable
    assert plans[1].error == "missing.gguf: no such model file"
    assert plans[1].label == "Gone"
    # The unresolved pane takes no share of the cores: the good one runs as if alone.
    assert plans[0].settings.n_threads == available_cores()


def test_real_references_resolve_or_fail_with_one_line(tmp_path: Path, smollm2_path: Path) -> None:
    missing = tmp_path / "nope.gguf"
    plans = build_plan(
        profile(
            PaneSpec(model="demo:smollm2-135m"),
            PaneSpec(model=str(missing)),
            PaneSpec(model="nosuchscheme:thing"),
        )
    )
    assert plans[0].runnable and Path(plans[0].settings.path) == smollm2_path
    for bad in plans[1:]:
        assert bad.error and "\n" not in bad.error
    assert str(missing) in plans[1].error


def test_openai_panes_are_remote_and_take_no_cores() -> None:
    ref = "openai:http://127.0.0.1:9/v1#tiny"
    plans = build_plan(
        profile(PaneSpec(model=ref, api_key_env="MY_KEY"), PaneSpec(model="small.gguf")),
        resolve=RESOLVE,
    )
    assert plans[0].kind == "openai" and plans[0].runnable
    assert plans[0].api_key_env == "MY_KEY"
    assert plans[0].settings.path == ref
    assert plans[1].settings.n_threads == available_cores()


def test_open_handle_refuses_an_unresolved_pane() -> None:
    plans = build_plan(profile(PaneSpec(model="missing.gguf")), resolve=RESOLVE)
    with pytest.raises(ValueError, match="missing.gguf: no such model file"):
        open_handle(plans[0])


def test_open_handle_gives_a_worker_handle_for_a_local_pane() -> None:
    from engines.local.handle import WorkerModelHandle

    plan: PanePlan = build_plan(profile(PaneSpec(model="small.gguf")), resolve=RESOLVE)[0]
    handle = open_handle(plan)
    try:
        assert isinstance(handle, WorkerModelHandle)
        assert handle.pid is None  # nothing started until load()
    finally:
        handle.close()


def test_open_handle_gives_a_remote_handle_for_a_server_pane(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from engines.remote.handle import RemoteModelHandle

    monkeypatch.setenv("MY_KEY", "sk-test")
    ref = "openai:http://127.0.0.1:9/v1#tiny"
    plan = build_plan(profile(PaneSpec(model=ref, api_key_env="MY_KEY")), resolve=RESOLVE)[0]
    handle = open_handle(plan)  # nothing is contacted until load()
    try:
        assert isinstance(handle, RemoteModelHandle)
        assert (handle.base_url, handle.model) == ("http://127.0.0.1:9/v1", "tiny")
        assert handle.api_key == "sk-test" and handle.api_key_env == "MY_KEY"
        assert handle.pid is None
    finally:
        handle.close()


def test_grid_multiplies_panes_by_swept_values_and_names_them() -> None:
    panes = [PaneSpec(model="a.gguf", label="A"), PaneSpec(model="b.gguf", label="B")]
    grid = expand_grid(panes, {"temperature": [0.2, 0.7, 1.2], "max_tokens": [16]})
    assert len(grid) == 6
    assert [p.label for p in grid] == [
        "A · temp=0.2", "A · temp=0.7", "A · temp=1.2",
        "B · temp=0.2", "B · temp=0.7", "B · temp=1.2",
    ]  # fmt: skip
    assert [p.sampling.temperature for p in grid] == [0.2, 0.7, 1.2] * 2
    assert {p.sampling.max_tokens for p in grid} == {16}
    assert panes[0].sampling.temperature is None  # the originals are untouched


def test_grid_of_single_values_keeps_panes_and_labels() -> None:
    panes = [PaneSpec(model="a.gguf", label="A", sampling=SamplingOverrides(top_k=5))]
    grid = expand_grid(panes, {"temperature": [0.3]})
    assert len(grid) == 1 and grid[0].label == "A"
    assert grid[0].sampling.temperature == 0.3 and grid[0].sampling.top_k == 5


def test_grid_with_two_swept_values_is_their_product() -> None:
    grid = expand_grid(
        [PaneSpec(model="a.gguf", label="A")], {"temperature": [0.2, 1.0], "seed": [1, 2]}
    )
    assert [p.label for p in grid] == [
        "A · temp=0.2 seed=1", "A · temp=0.2 seed=2", "A · temp=1 seed=1", "A · temp=1 seed=2",
    ]  # fmt: skip


def test_grid_refuses_out_of_range_values_and_unknown_names() -> None:
    with pytest.raises(ValidationError):
        expand_grid([PaneSpec(model="a.gguf")], {"temperature": [0.5, 3.0]})
    with pytest.raises(ValueError, match="cannot sweep n_ctx"):
        expand_grid([PaneSpec(model="a.gguf")], {"n_ctx": [512]})


def test_duplicate_models_get_numbered_labels() -> None:
    plans = build_plan(
        profile(
            PaneSpec(model="small.gguf"),
            PaneSpec(model="large.gguf"),
            PaneSpec(model="small.gguf"),
            PaneSpec(model="large.gguf", label="Big"),
            PaneSpec(model="large.gguf", label="Big"),
        ),
        resolve=RESOLVE,
    )
    labels = [p.label for p in plans]
    assert len(set(labels)) == 5, labels
    assert labels[0].endswith(" #1") and labels[2].endswith(" #2")
    assert labels[0][: -len(" #1")] == labels[2][: -len(" #2")]
    assert not labels[1].endswith("#1")  # a label used once stays as it is
    assert labels[3:] == ["Big #1", "Big #2"]
    assert [p.settings.label for p in plans] == labels  # the worker's log names it too
