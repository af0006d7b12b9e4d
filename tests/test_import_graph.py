"""The package's imports form layers: no module reaches, directly or through others, back to itself.

The graph counts every way one module can import another: ``import`` statements at any depth
(function-local ones included), ``importlib.import_module("...")`` with a literal name, and the
``"package.module:Attribute"`` import strings the registries resolve on demand.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import iseg_bench
import iseg_bench.adapters
import iseg_bench.datasets

IMPORT_STRING = re.compile(r"^(iseg_bench(?:\.\w+)+):[\w.]+$")


def package_modules() -> dict[str, Path]:
    """Every module of iseg_bench, with the adapters and datasets folders where the package maps them."""
    roots = {"iseg_bench": iseg_bench, "iseg_bench.adapters": iseg_bench.adapters,
             "iseg_bench.datasets": iseg_bench.datasets}
    modules = {}
    for prefix, package in roots.items():
        root = Path(package.__path__[0])
        for file in root.rglob("*.py"):
            parts = file.relative_to(root).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            name = ".".join((prefix, *parts))
            if not any(name.startswith(other + ".") for other in roots if other != prefix and other.startswith(prefix)):
                modules[name] = file
    return modules


def _nearest(name: str, modules: dict[str, Path]) -> str | None:
    """The module ``name`` names, or the package it is an attribute of."""
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


def imported_names(module: str, file: Path) -> list[str]:
    """Every dotted name ``module`` imports, however it imports it."""
    package = module if file.name == "__init__.py" else module.rpartition(".")[0]
    names = []
    for node in ast.walk(ast.parse(file.read_text(), str(file))):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(parent + ([node.module] if node.module else []))
            names += [f"{base}.{alias.name}" for alias in node.names]  # a module, or an attribute of base
        elif isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", "")) == "import_module":
            if node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
                names.append(node.args[0].value)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and IMPORT_STRING.match(node.value):
            names.append(IMPORT_STRING.match(node.value).group(1))
    return names


def import_graph() -> dict[str, set[str]]:
    modules = package_modules()
    graph: dict[str, set[str]] = {}
    for module, file in modules.items():
        targets = {_nearest(name, modules) for name in imported_names(module, file) if name.startswith("iseg_bench")}
        graph[module] = {t for t in targets if t and t != module}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found = []
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_the_graph_sees_every_kind_of_import():
    graph = import_graph()
    assert len(graph) > 90  # the adapters and datasets folders are walked too
    assert "iseg_bench.adapters.ritm.network" in graph["iseg_bench.adapters.ritm"]  # an import string
    assert "iseg_bench.execution.ray_actors" in graph["iseg_bench.execution"]  # a registry's import string
    assert "iseg_bench.adapters" in graph["iseg_bench"]  # a function-local import


def test_the_cycle_finder_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_module_imports_itself_back():
    graph = import_graph()
    found = cycles(graph)
    described = ["; ".join(f"{m} -> {sorted(graph[m] & set(c))}" for m in c) for c in found]
    assert not found, "import cycles:\n" + "\n".join(described)


def reached_from(graph: dict[str, set[str]], module: str) -> set[str]:
    seen: set[str] = set()
    todo = [module]
    while todo:
        for target in graph.get(todo.pop(), ()):
            if target not in seen:
                seen.add(target)
                todo.append(target)
    return seen


def test_the_gate_and_the_runner_do_not_reach_the_reporting_wing():
    graph = import_graph()
    for module in ("iseg_bench.regress", "iseg_bench.runner", "iseg_bench.evaluation", "iseg_bench.summary"):
        assert not {m for m in reached_from(graph, module) if m.startswith("iseg_bench.reporting")}, module
    assert "iseg_bench.reporting.report" in reached_from(graph, "iseg_bench.cli")
