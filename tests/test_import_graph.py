"""bot/ and conversations/ import each other without a cycle — late imports included.

The graph is read from the source with `ast`, not from `sys.modules`: an import placed
inside a function (the usual way to hide a cycle) counts as much as one at the top, and so
does one under `if TYPE_CHECKING:`. `from pkg import name` is an edge to `pkg.name` when
that is a module, else to `pkg` itself. The packages are walked, not listed, so the test
follows modules as they move between subpackages.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("bot", "conversations")

Graph = dict[str, dict[str, int]]  # module → imported module → line of the first import


def modules(root: Path, packages: Iterable[str]) -> dict[str, Path]:
    """Every module under the packages, by dotted name (a package by its __init__.py)."""
    found = {}
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


def _base(module: str, path: Path, level: int) -> str:
    """The package a relative import with `level` dots starts from."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    parts = package.split(".")
    return ".".join(parts[: len(parts) - (level - 1)])


def _targets(node: ast.Import | ast.ImportFrom, module: str, path: Path) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if node.level:
        base = _base(module, path, node.level)
        source = f"{base}.{node.module}" if node.module else base
    else:
        source = node.module or ""
    return [source, *(f"{source}.{alias.name}" for alias in node.names)]


def _resolve(name: str, known: dict[str, Path]) -> str | None:
    """The known module an imported name lands in: itself, else its nearest known parent."""
    while name and name not in known:
        name = name.rpartition(".")[0]
    return name or None


def import_graph(root: Path = ROOT, packages: Iterable[str] = PACKAGES) -> Graph:
    """Who imports whom among the packages' modules, at any depth of the source."""
    known = modules(root, packages)
    graph: Graph = {name: {} for name in known}
    for module, path in known.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if not isinstance(node, ast.Import | ast.ImportFrom):
                continue
            targets = _targets(node, module, path)
            if isinstance(node, ast.ImportFrom):
                # `from pkg import sub`: the submodule when it is one, else pkg's own names.
                source, *names = targets
                submodules = [name for name in names if name in known]
                targets = submodules if len(submodules) == len(names) else [source, *submodules]
            for target in targets:
                landed = _resolve(target, known)
                if landed is not None and landed != module:
                    graph[module].setdefault(landed, node.lineno)
    return graph


def find_cycle(graph: Graph) -> list[str] | None:
    """One cycle as a path [a, b, ..., a], or None when the graph has none."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, {})):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state and (cycle := visit(nxt)) is not None:
                return cycle
        path.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state and (cycle := visit(start)) is not None:
            return cycle
    return None


def describe(cycle: list[str], graph: Graph) -> str:
    """The cycle one import per line, with where each import is."""
    return "\n".join(
        f"  {a} -> {b}  ({a.replace('.', '/')}.py line {graph[a][b]})"
        for a, b in zip(cycle, cycle[1:], strict=False)
    )


def test_bot_and_conversations_import_each_other_without_a_cycle() -> None:
    graph = import_graph()
    cycle = find_cycle(graph)
    assert cycle is None, "import cycle:\n" + describe(cycle, graph)


def test_the_graph_sees_imports_inside_functions_and_submodules_named_by_from(
    tmp_path: Path,
) -> None:
    package = tmp_path / "pkg"
    (package / "sub").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "sub" / "__init__.py").write_text("")
    (package / "a.py").write_text("from pkg.sub import b\n")
    (package / "sub" / "b.py").write_text("def late():\n    from .. import c\n")
    (package / "c.py").write_text("from pkg import a\n")
    graph = import_graph(tmp_path, ["pkg"])
    assert graph["pkg.a"] == {"pkg.sub.b": 1}
    assert graph["pkg.sub.b"] == {"pkg.c": 2}
    cycle = find_cycle(graph)
    assert cycle == ["pkg.a", "pkg.sub.b", "pkg.c", "pkg.a"]
    assert "pkg.sub.b -> pkg.c  (pkg/sub/b.py line 2)" in describe(cycle, graph)


def test_a_name_from_a_package_is_an_import_of_its_init(tmp_path: Path) -> None:
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("from pkg.a import thing\n")
    (package / "a.py").write_text("import os\nthing = 1\n")
    (package / "b.py").write_text("from pkg import thing\n")
    graph = import_graph(tmp_path, ["pkg"])
    assert graph["pkg.b"] == {"pkg": 1}
    assert graph["pkg"] == {"pkg.a": 1}
    assert find_cycle(graph) is None


@pytest.mark.parametrize("package", PACKAGES)
def test_every_package_is_walked(package: str) -> None:
    assert any(name.startswith(f"{package}.") for name in import_graph())
