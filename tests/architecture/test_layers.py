"""The house rules, read from the source itself: each test fails when a rule is broken again.

- services never reach for the web layer (views, forms, the request, the signed-in user);
- views never commit or roll back: the HTTP boundary (helpdesk/web/boundary.py) does;
- no import cycle between modules of helpdesk/ (every import counts, also one inside a
  function: a cycle broken by a late import is still two modules that need each other);
- no module of helpdesk/ is longer than 600 lines.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "helpdesk"
SKIP_DIRS = {"migrations", "static", "templates", "translations", "data"}
MAX_LINES = 600
# The app factory (helpdesk/__init__.py) assembles every part, late, inside create_app;
# imports of it (the CLI's FlaskGroup needs create_app) are not counted as cycles.
APP_FACTORY = "helpdesk"

# The web layer a service must not import (module prefixes) and the names that are
# the request or the signed-in person.
WEB_MODULES = ("helpdesk.web",)
WEB_SUFFIXES = (".views", ".forms")
WEB_NAMES = {
    ("flask", "request"),
    ("flask", "session"),
    ("flask", "g"),
    ("flask_login", "current_user"),
    ("flask_wtf", "FlaskForm"),
}


def modules() -> Iterator[tuple[str, Path]]:
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE.parent)
        if SKIP_DIRS & set(rel.parts):
            continue
        parts = list(rel.with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        yield ".".join(parts), path


MODULES = dict(modules())


def parse(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def imported(node: ast.AST, module: str, is_package: bool) -> Iterator[tuple[str, str | None]]:
    """(module, name) pairs an import statement brings in, relative imports resolved."""
    if isinstance(node, ast.Import):
        for alias in node.names:
            yield alias.name, None
    elif isinstance(node, ast.ImportFrom):
        base = node.module or ""
        if node.level:
            package = module.split(".") if is_package else module.split(".")[:-1]
            package = package[: len(package) - (node.level - 1)]
            base = ".".join([*package, base] if base else package)
        for alias in node.names:
            yield base, alias.name


def target(base: str, name: str | None) -> str | None:
    """The helpdesk module an import loads (`from helpdesk.x import y` may name module y)."""
    if name is not None and f"{base}.{name}" in MODULES:
        return f"{base}.{name}"
    return base if base in MODULES else None


def import_graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for module, path in MODULES.items():
        is_package = path.name == "__init__.py"
        edges: set[str] = set()
        for node in ast.walk(parse(path)):
            if not isinstance(node, ast.Import | ast.ImportFrom):
                continue
            for base, name in imported(node, module, is_package):
                found = target(base, name)
                if found and found not in (module, APP_FACTORY):
                    edges.add(found)
        graph[module] = edges
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: list[list[str]] = []
    counter = 0

    def visit(node: str) -> None:
        nonlocal counter
        index[node] = low[node] = counter
        counter += 1
        stack.append(node)
        on_stack.add(node)
        for succ in graph.get(node, ()):
            if succ not in index:
                visit(succ)
                low[node] = min(low[node], low[succ])
            elif succ in on_stack:
                low[node] = min(low[node], index[succ])
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

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def service_modules() -> list[str]:
    return [m for m in MODULES if m.rsplit(".", 1)[-1] == "services"]


def view_modules() -> list[str]:
    return [m for m in MODULES if m.rsplit(".", 1)[-1] == "views"]


def web_imports(module: str) -> list[str]:
    """Every import in a module (also inside functions) that reaches the web layer."""
    path = MODULES[module]
    bad = []
    for node in ast.walk(parse(path)):
        if not isinstance(node, ast.Import | ast.ImportFrom):
            continue
        for base, name in imported(node, module, path.name == "__init__.py"):
            full = f"{base}.{name}" if name else base
            if (
                full.startswith(WEB_MODULES)
                or base.startswith(WEB_MODULES)
                or any(base.endswith(s) or full.endswith(s) for s in WEB_SUFFIXES)
                or (base, name) in WEB_NAMES
                or full in {"flask.request", "flask_login.current_user"}
            ):
                bad.append(full)
    return bad


def transaction_calls(module: str) -> list[str]:
    """`x.commit()` / `x.rollback()` calls in a module, as 'line: call'."""
    bad = []
    for node in ast.walk(parse(MODULES[module])):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in {"commit", "rollback"}
        ):
            bad.append(f"{node.lineno}: {ast.unparse(node.func)}()")
    return bad


# --------------------------------------------------------------------------- the rules


def test_the_rules_see_the_code():
    """Guard against a test that passes because it looks at nothing."""
    assert len(service_modules()) >= 8
    assert len(view_modules()) >= 8
    assert "helpdesk.tickets.services" in MODULES


@pytest.mark.parametrize("module", service_modules())
def test_services_do_not_reach_for_the_web_layer(module):
    assert web_imports(module) == [], (
        f"{module} imports the web layer; services take plain arguments (actor, ids, values)"
    )


@pytest.mark.parametrize("module", view_modules())
def test_views_never_commit_or_roll_back(module):
    assert transaction_calls(module) == [], (
        f"{module} commits or rolls back; the HTTP boundary (helpdesk/web/boundary.py) does"
    )


TRANSLATORS = {"_", "_l", "gettext", "lazy_gettext", "ngettext"}
DOMAIN_ERRORS = {
    "HelpdeskError",
    "InvalidInput",
    "PermissionDenied",
    "NotFound",
    "Conflict",
    "TooManyRequests",
    "PayloadTooLarge",
}


def translated_raises(module: str) -> list[str]:
    """`raise InvalidInput(_("..."))`: translated where raised instead of where shown.
    (Form validators raising WTForms' ValidationError are the forms' own convention.)"""
    bad = []
    for node in ast.walk(parse(MODULES[module])):
        if (
            isinstance(node, ast.Raise)
            and isinstance(node.exc, ast.Call)
            and isinstance(node.exc.func, ast.Name)
            and node.exc.func.id in DOMAIN_ERRORS
            and node.exc.args
        ):
            first = node.exc.args[0]
            if (
                isinstance(first, ast.Call)
                and isinstance(first.func, ast.Name)
                and first.func.id in TRANSLATORS
            ):
                bad.append(f"{node.lineno}: {ast.unparse(node.exc)[:60]}")
    return bad


def test_errors_carry_english_text_translated_when_shown():
    """errors.py: raise `InvalidInput("At most %(n)s files.", n=5)`; `exc.message`
    translates for whoever reads it (page, socket answer, CLI)."""
    found = {m: translated_raises(m) for m in MODULES}
    assert {m: lines for m, lines in found.items() if lines} == {}


def test_no_import_cycle():
    assert cycles(import_graph()) == []


def test_no_module_over_600_lines():
    long = {}
    for module, path in MODULES.items():
        with path.open(encoding="utf-8") as fh:
            n = sum(1 for _ in fh)
        if n > MAX_LINES:
            long[module] = n
    assert long == {}


# ------------------------------------------------------------ the checks catch breaches


def test_checks_catch_a_breach(tmp_path, monkeypatch):
    """Each check fails on a planted breach (so a pass above means something)."""
    pkg = tmp_path / "helpdesk"
    (pkg / "thing").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "thing" / "__init__.py").write_text("")
    (pkg / "thing" / "services.py").write_text(
        "from flask import request\nfrom helpdesk.thing.views import x\n"
    )
    (pkg / "thing" / "views.py").write_text(
        "from helpdesk.thing import services\n"
        "def v():\n    from helpdesk.extensions import db\n    db.session.commit()\n"
    )
    monkeypatch.setattr(__import__(__name__, fromlist=["x"]), "PACKAGE", pkg)
    found = {
        ".".join(p.relative_to(tmp_path).with_suffix("").parts).removesuffix(".__init__"): p
        for p in pkg.rglob("*.py")
    }
    monkeypatch.setattr(__import__(__name__, fromlist=["x"]), "MODULES", found)
    (pkg / "thing" / "events.py").write_text(
        "from flask_babel import gettext as _\nraise NotFound(_('Translated too early.'))\n"
    )
    found["helpdesk.thing.events"] = pkg / "thing" / "events.py"
    assert translated_raises("helpdesk.thing.events") != []
    assert web_imports("helpdesk.thing.services") == ["flask.request", "helpdesk.thing.views.x"]
    assert transaction_calls("helpdesk.thing.views") == ["4: db.session.commit()"]
    assert cycles(import_graph()) == [["helpdesk.thing.services", "helpdesk.thing.views"]]
