"""A prompt-token count nobody reported is unknown ("—", null, empty), never 0.

llama-cpp-python's OpenAI server sends no `usage` while streaming, so a server pane cannot
know its prompt tokens; the figure must travel as None from the stream's tally through
the stats, the result record, the history and every export.
"""

from __future__ import annotations

import csv
import io
import json

from openai_stub_server import OpenAIStub, StubReply, chunk

from engines.local.timing import error_stats
from engines.protocol import GenerationStarted
from profiles import csv_export, json_export, markdown_export
from profiles.plan import build_plan
from profiles.results import RunResult
from profiles.runner import run_comparison
from profiles.schema import Profile


def run_against(stub: OpenAIStub) -> RunResult:
    profile = Profile.model_validate({"name": "remote", "panes": [{"model": f"openai:{stub.url}"}]})
    outcome = run_comparison(build_plan(profile), "Name a colour.", history=False)
    assert outcome.ok, outcome.failures
    [result] = outcome.results
    return result


def no_usage_reply() -> StubReply:
    return StubReply(chunks=[chunk("Deep"), chunk(" blue"), chunk(None, "stop")])


def test_a_server_without_usage_records_unknown_prompt_tokens_and_exports_them_as_unknown() -> None:
    with OpenAIStub(replies=[no_usage_reply()]) as stub:
        result = run_against(stub)
    assert result.figures.prompt_tokens is None
    assert result.figures.generated_tokens == 2

    assert json.loads(json_export.to_json([result]))["results"][0]["n_prompt"] is None
    [row] = csv.DictReader(io.StringIO(csv_export.to_csv([result])))
    assert row["n_prompt"] == "" and row["n_gen"] == "2"
    [prompt_row] = [
        line
        for line in markdown_export.to_markdown([result]).splitlines()
        if "prompt tokens" in line
    ]
    assert prompt_row.split("|")[2].strip() == "—"
    # The history keeps it unknown too (a JSON round trip).
    assert RunResult.model_validate_json(result.model_dump_json()).figures.prompt_tokens is None


def test_a_server_with_usage_still_records_its_count() -> None:
    reply = StubReply(
        chunks=[
            chunk("Deep"),
            chunk(None, "stop"),
            {"choices": [], "usage": {"prompt_tokens": 12, "completion_tokens": 1}},
        ]
    )
    with OpenAIStub(replies=[reply]) as stub:
        result = run_against(stub)
    assert result.figures.prompt_tokens == 12
    assert json.loads(json_export.to_json([result]))["results"][0]["n_prompt"] == 12


def test_the_headless_table_shows_a_dash_for_unknown_prompt_tokens() -> None:
    from tui.commands.run_output import DASH, results_table

    with OpenAIStub(replies=[no_usage_reply()]) as stub:
        profile = Profile.model_validate(
            {"name": "remote", "panes": [{"model": f"openai:{stub.url}"}]}
        )
        plans = build_plan(profile)
        outcome = run_comparison(plans, "Name a colour.", history=False)
    header, row = results_table(plans, outcome).splitlines()[1:3]
    n_prompt_at = header.index("n_prompt")
    assert row[n_prompt_at : n_prompt_at + len("n_prompt")].strip() == DASH


def test_a_remote_run_starts_without_a_prompt_count_and_a_failure_before_it_knows_none() -> None:
    from engines.remote.handle import RemoteModelHandle
    from engines.types import GenerationRequest, ModelSettings

    with OpenAIStub(replies=[no_usage_reply()]) as stub:
        handle = RemoteModelHandle(stub.url, read_timeout_s=5.0, connect_timeout_s=2.0)
        handle.load(ModelSettings(path=f"openai:{stub.url}"))
        handle.generate(GenerationRequest("Name a colour.", request_id="r1"))
        events = []
        while not any(type(event).__name__ == "GenerationFinished" for event in events):
            new = handle.next_events(5.0)
            assert new, "no GenerationFinished within 5 s"
            events += new
        handle.close()
    [started] = [event for event in events if isinstance(event, GenerationStarted)]
    assert started.prompt_tokens is None
    assert error_stats("the worker crashed").prompt_tokens is None
