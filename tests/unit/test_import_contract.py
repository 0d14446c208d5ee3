"""The import contract: engines/ imports neither profiles/ nor tui/, profiles/ not tui/, and
no module of the three takes part in an import circle — deferred and TYPE_CHECKING imports
included, since a circle there is still a circle a reader has to hold in their head."""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PACKAGES = ("engines", "profiles", "tui")
FORBIDDEN = {"engines": ("profiles", "tui"), "profiles": ("tui",), "tui": ()}


def module_imports(root: Path) -> dict[str, set[str]]:
    """Every module under the three packages of `root`, with the modules of the three it imports."""
    imports: dict[str, set[str]] = {}
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            name = ".".join(path.relative_to(root).with_suffix("").parts).removesuffix(".__init__")
            found: set[str] = set()
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                    found.add(node.module)
                    found.update(f"{node.module}.{alias.name}" for alias in node.names)
                elif isinstance(node, ast.Import):
                    found.update(alias.name for alias in node.names)
            imports[name] = found
    return {name: {d for d in deps if d in imports and d != name} for name, deps in imports.items()}


def layer_violations(imports: dict[str, set[str]]) -> list[str]:
    """`a -> b` for each import that crosses the layers the wrong way."""
    return sorted(
        f"{module} -> {dependency}"
        for module, dependencies in imports.items()
        for dependency in dependencies
        if dependency.split(".")[0] in FORBIDDEN[module.split(".")[0]]
    )


def import_circles(imports: dict[str, set[str]]) -> list[list[str]]:
    """The import circles (strongly connected groups of more than one module), Tarjan's way."""
    index: dict[str, int] = {}
    lowest: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    circles: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = lowest[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for dependency in imports[module]:
            if dependency not in index:
                visit(dependency)
                lowest[module] = min(lowest[module], lowest[dependency])
            elif dependency in on_stack:
                lowest[module] = min(lowest[module], index[dependency])
        if lowest[module] == index[module]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == module:
                    break
            if len(group) > 1:
                circles.append(sorted(group))

    for module in sorted(imports):
        if module not in index:
            visit(module)
    return circles


def test_the_layers_import_downwards_only() -> None:
    assert layer_violations(module_imports(REPO)) == []


def test_there_is_no_import_circle() -> None:
    assert import_circles(module_imports(REPO)) == []


def _write_tree(root: Path, files: dict[str, str]) -> None:
    for package in PACKAGES:
        (root / package).mkdir()
        (root / package / "__init__.py").write_text("")
    for name, text in files.items():
        (root / name).write_text(text)


def test_the_contract_catches_a_circle_and_a_crossing(tmp_path: Path) -> None:
    """The checks themselves can fail: a planted circle (one side deferred under
    TYPE_CHECKING) and a planted engines -> tui import are both reported."""
    _write_tree(
        tmp_path,
        {
            "engines/a.py": "from engines.b import thing\nimport tui.app\n",
            "engines/b.py": "from typing import TYPE_CHECKING\n"
            "if TYPE_CHECKING:\n    from engines.a import other\n",
            "tui/app.py": "",
        },
    )
    imports = module_imports(tmp_path)
    assert import_circles(imports) == [["engines.a", "engines.b"]]
    assert layer_violations(imports) == ["engines.a -> tui.app"]
