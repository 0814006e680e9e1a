"""The import graph of webapp/: no cycle, at module level or deferred inside a function, and the job
channels registered where they are defined (services/jobs.py imports none of them).

The graph is read from the source (every `import` and `from ... import` anywhere in a module), so an
import hidden in a function counts as much as one at the top. A package importing its own submodules
is how a package assembles itself (a blueprint's `__init__` imports its routes at the bottom, as
STYLE.md shows) and is not an edge here; everything else is.
"""

import ast
import pathlib

import webapp
from webapp.services import jobs

WEBAPP = pathlib.Path(webapp.__file__).parent


def _modules():
    """{dotted name: (path, the package its relative imports start from)} of every module in webapp/."""
    found = {}
    for path in WEBAPP.rglob("*.py"):
        parts = list(path.relative_to(WEBAPP.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
            package = ".".join(parts)
        else:
            package = ".".join(parts[:-1])
        found[".".join(parts)] = (path, package)
    return found


def import_graph():
    """{module: the webapp modules it imports}."""
    modules = _modules()

    def known(name):
        while name and name not in modules:
            name = name.rpartition(".")[0]
        return name or None

    graph = {name: set() for name in modules}
    for name, (path, package) in modules.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets = [known(alias.name) for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = package.split(".")[: len(package.split(".")) - node.level + 1] if node.level else []
                source = ".".join(base + ([node.module] if node.module else []))
                targets = [known(f"{source}.{alias.name}") or known(source) for alias in node.names]
            else:
                continue
            for target in targets:
                own_submodule = path.name == "__init__.py" and target and target.startswith(name + ".")
                if target and target != name and not own_submodule:
                    graph[name].add(target)
    return graph


def cycles(graph):
    """The strongly connected components of more than one module (Tarjan's algorithm, iteratively)."""
    index, low, on_stack, stack, found, counter = {}, {}, set(), [], [], [0]
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter[0]
        counter[0] += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter[0]
                    counter[0] += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
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


def test_no_module_of_webapp_is_part_of_an_import_cycle():
    assert cycles(import_graph()) == []


def test_the_cycle_finder_finds_a_cycle_hidden_in_a_function():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [["a", "b", "c"]]
    edges = import_graph()
    assert "webapp.services.jobs" in edges["webapp.services.notifications.push"]  # a channel uses the job queue...
    assert (
        not {"webapp.services.notifications.push", "webapp.services.notifications.receipts"}
        & edges["webapp.services.jobs"]
    )  # ...not back


def test_every_job_channel_is_registered_by_the_app(app):
    assert jobs.channels() == {
        "email",
        "push",
        "ai_review",
        "ai_summary",
        "ai_match",
        "account_email",
        "data_export",
        "gateway_refund",
    }
