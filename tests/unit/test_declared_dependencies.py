"""Every third-party package the code imports is declared in pyproject.toml.

A package that only arrives as another one's dependency (tqdm, filelock, httpx2 through
huggingface_hub; rich through Textual) can vanish or change under us on the next release
of that other package; declaring it states the versions our own calls need.
"""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("engines", "profiles", "tui")
OPTIONAL_EXTRAS = ("demo", "amd")
"""Extras whose packages the code may import (it checks they are there before it does)."""


def _normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _requirement_name(requirement: str) -> str:
    match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement)
    assert match, requirement
    return _normalize(match[1])


def declared_distributions() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    requirements = list(project["dependencies"])
    for extra in OPTIONAL_EXTRAS:
        requirements += project["optional-dependencies"][extra]
    return {_requirement_name(requirement) for requirement in requirements}


def imported_top_level_modules() -> dict[str, list[str]]:
    """Third-party top-level module → the files importing it (deferred imports included)."""
    first_party = set(PACKAGES)
    found: dict[str, list[str]] = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            for node in ast.walk(tree):
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names = [node.module]
                else:
                    continue
                for name in names:
                    top = name.split(".")[0]
                    if top in sys.stdlib_module_names or top in first_party or top == "__future__":
                        continue
                    found.setdefault(top, []).append(str(path.relative_to(ROOT)))
    return found


def test_every_third_party_import_is_declared() -> None:
    declared = declared_distributions()
    providers = packages_distributions()
    missing = []
    for module, files in sorted(imported_top_level_modules().items()):
        distributions = {_normalize(name) for name in providers.get(module, [])}
        if not distributions and _normalize(module) in declared:
            continue  # an optional extra that is not installed here (amdsmi): declared
        if not distributions:
            missing.append(f"{module} (imported by {files[0]}) is not installed at all")
        elif not distributions & declared:
            missing.append(
                f"{module} (imported by {files[0]}) comes from {', '.join(sorted(distributions))}, "
                "which pyproject.toml does not declare"
            )
    assert not missing, "\n".join(missing)


def test_the_scan_sees_deferred_imports() -> None:
    modules = imported_top_level_modules()
    assert "tqdm" in modules, "tqdm is imported inside functions only"
    assert "textual" in modules and "pydantic" in modules
