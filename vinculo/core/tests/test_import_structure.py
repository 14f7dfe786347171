"""The import structure of the code (tests and migrations aside), read with `ast`: no module imports
a `_private` name of another module, and no modules import each other in a circle, counting the
imports inside functions (they run too) and leaving out `if TYPE_CHECKING:` blocks (they do not).
import-linter checks the layers and the circles between packages (pyproject.toml); it cannot see
names, so this test does."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]  # the vinculo package
SKIPPED_DIRS = {"tests", "migrations", "__pycache__", "static", "templates"}
# none: the ingestion's accept/process seam was split (the API view enqueues, not the service)
KNOWN_CIRCLES: set[frozenset[str]] = set()


def _modules() -> dict[str, Path]:
    found = {}
    for path in ROOT.rglob("*.py"):
        parts = path.relative_to(ROOT.parent).with_suffix("").parts
        if SKIPPED_DIRS & set(parts) or path.name.startswith("test_"):
            continue
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


def _imports(module: str, path: Path, modules: dict[str, Path]) -> Iterator[tuple[str, str]]:
    """(imported module or package, imported name or "") for every import that runs."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for statement in node.body:
                skipped.update(id(sub) for sub in ast.walk(statement))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("vinculo."):
                    yield alias.name, ""
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.startswith("vinculo"):
                for alias in node.names:
                    yield target, alias.name


def _graph() -> tuple[dict[str, set[str]], list[str]]:
    modules = _modules()
    edges: dict[str, set[str]] = {}
    private = []
    for module, path in modules.items():
        targets = set()
        for target, name in _imports(module, path, modules):
            submodule = f"{target}.{name}"
            targets.add(submodule if submodule in modules else target)
            if name.startswith("_") and not name.startswith("__") and target != module:
                private.append(f"{module} imports {target}.{name}")
        edges[module] = {t for t in targets if t in modules and t != module}
    return edges, private


def _circles(edges: dict[str, set[str]]) -> list[frozenset[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in edges.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.add(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(frozenset(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def test_no_module_imports_a_private_name_of_another():
    _edges, private = _graph()
    assert private == []


def test_no_modules_import_each_other_in_a_circle():
    edges, _private = _graph()
    circles = [sorted(c) for c in _circles(edges) if c not in KNOWN_CIRCLES and not _package_and_its_own(c)]
    assert circles == []


def _package_and_its_own(circle: frozenset[str]) -> bool:
    """A package whose __init__ imports its submodules, which import names from it: a loop the
    package is made of, not a circle between modules (as the import_structure tool counts them)."""
    top = min(circle, key=len)
    return all(m == top or m.startswith(top + ".") for m in circle)


def test_the_check_sees_a_circle_and_a_private_import():
    edges = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _circles(edges) == [frozenset({"a", "b", "c"})]
    assert _package_and_its_own(frozenset({"p", "p.x", "p.y"}))
    assert not _package_and_its_own(frozenset({"p.x", "p.y"}))
    modules = _modules()
    assert "vinculo.core.validation" in modules
    assert ("vinculo.core.validation", "Errors") in set(
        _imports("vinculo.sales.services.deals", modules["vinculo.sales.services.deals"], modules)
    )
