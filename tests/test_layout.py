"""The layout's rules: no import cycles, no module over 400 lines, and nothing outside
strategies/ importing a private name from a strategy module."""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "fftconv"
MODULES = sorted(PACKAGE.rglob("*.py"))


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path, top_level_only: bool) -> list[tuple[str, list[str]]]:
    """(absolute module, imported names) of every ``from ... import`` in ``path``."""
    tree = ast.parse(path.read_text())
    package = module_name(path) if path.name == "__init__.py" else module_name(path).rpartition(".")[0]
    nodes = tree.body if top_level_only else list(ast.walk(tree))
    out = []
    for node in nodes:
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            if mod.startswith("fftconv"):
                out.append((mod, [a.name for a in node.names]))
    return out


def test_no_import_cycles_at_import_time():
    names = {module_name(p) for p in MODULES}
    graph = {module_name(p): set() for p in MODULES}
    for path in MODULES:
        for mod, imported in imports(path, top_level_only=True):
            targets = {f"{mod}.{n}" for n in imported if f"{mod}.{n}" in names} or {mod}
            graph[module_name(path)] |= {t for t in targets if t in names}
    state: dict[str, int] = {}

    def visit(node, stack):
        state[node] = 1
        for nxt in sorted(graph[node]):
            # a package's __init__ importing its own submodules is not a cycle of concepts
            if nxt.startswith(node + ".") or node.startswith(nxt + "."):
                continue
            if state.get(nxt) == 1:
                pytest.fail("import cycle: " + " -> ".join([*stack, node, nxt]))
            if nxt not in state:
                visit(nxt, [*stack, node])
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node, [])


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_module_over_400_lines(path):
    assert len(path.read_text().splitlines()) <= 400


@pytest.mark.parametrize("path", [p for p in MODULES if "strategies" not in p.parts],
                         ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_private_strategy_names_outside_strategies(path):
    for mod, imported in imports(path, top_level_only=False):
        if mod.startswith("fftconv.strategies"):
            private = [n for n in imported if n.startswith("_")]
            assert not private and "._" not in mod[len("fftconv.strategies"):], (mod, imported)


def test_type_ignores_are_few_and_each_gives_its_reason():
    # a ``# type: ignore`` hides what mypy found: at most a handful, each saying why
    found = []
    for path in MODULES:
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if "type: ignore" in line:
                found.append((str(path.relative_to(PACKAGE)), number, line.strip()))
    assert len(found) <= 5, found
    for where in found:
        code = where[2].split("type: ignore", 1)[1]
        assert code.startswith("[") and "#" in code.split("]", 1)[1], where
