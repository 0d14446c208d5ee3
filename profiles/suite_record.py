"""What a suite run adds to each result: which run, which prompt, and its checks."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from profiles.checks import CheckOutcome


class SuiteRecord(BaseModel):
    """A result's place in a suite run (`RunResult.suite`)."""

    model_config = ConfigDict(extra="ignore", use_attribute_docstrings=True)

    run_id: str
    """The suite run this answer belongs to (a resumed run keeps its id)."""
    suite: str
    """The suite's name (its file's stem, or "inline")."""
    digest: str
    """A hash of the suite's prompts and checks (`profiles.suite.Suite.digest`)."""
    prompt_id: str
    prompt_index: int
    """0-based place of the prompt in the suite."""
    prompt_count: int
    pane_key: str = ""
    """The pane's identity within the run (its index, model and sampling), for resuming."""
    concurrency: int = 1
    """Requests the pane had in flight at once: speeds are per request under it."""
    checks: list[CheckOutcome] = Field(default_factory=list)

    @property
    def checks_passed(self) -> int:
        """How many of this answer's checks passed."""
        return sum(1 for check in self.checks if check.passed)
