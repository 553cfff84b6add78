"""Which rules, properties and tests name each requirement ID (the traceability matrix).

Used by `gcu-model requirements` and by docs/generated/traceability.md. A machine's own
`reqs` says what it is about; a transition, a check, an action, an invariant, a goal, a
quantity or a test that names an ID covers it.
"""
from __future__ import annotations

import ast
from pathlib import Path
from .spec.ruleref import RuleRef

USE_KINDS = ("machines", "transitions", "checks", "actions", "invariants", "goals", "quantities", "tests")


def requirement_uses(spec, tests_dir: Path | None = None) -> dict:
    """Requirement ID -> {kind of use: [names]}; kinds as USE_KINDS."""
    uses = {rid: {k: [] for k in USE_KINDS} for rid in spec.requirements}

    def add(reqs, kind, name):
        for rid in reqs:
            if rid in uses and name not in uses[rid][kind]:
                uses[rid][kind].append(name)

    for m in spec.machines.values():
        add(m.reqs, "machines", m.name)
    for t in spec.transitions:
        add(t.reqs, "transitions", t.id)
        for k, c in enumerate(t.checks, 1):
            add(c.reqs, "checks", str(RuleRef.guard(t.id, k)))
    for a in spec.actions.values():
        add(a.reqs, "actions", a.name)
        for k, c in enumerate(a.checks, 1):
            add(c.reqs, "checks", str(RuleRef.check(a.name, k)))
    for p in spec.properties:
        add(p.reqs, "invariants" if p.kind == "invariant" else "goals", p.name)
    for q in getattr(spec, "quantities", {}).values():
        add(q.reqs, "quantities", q.name)
    if tests_dir is not None:
        for name, reqs in test_requirements(tests_dir):
            add(reqs, "tests", name)
    return uses


def covered(use: dict) -> bool:
    """A machine's `reqs` only says what it is about; a rule, property, quantity or test covers an ID."""
    return any(use[k] for k in USE_KINDS if k != "machines")


def default_tests_dir(spec) -> Path | None:
    """tests/ beside the spec tree, when the spec is a checkout's specs/."""
    candidate = Path(spec.root).resolve().parent / "tests"
    return candidate if candidate.is_dir() else None


def test_requirements(tests_dir: Path):
    """(test id, reqs) for every test function marked `@pytest.mark.reqs("ID", ...)`,
    read with `ast` (the tests are not imported)."""
    out = []
    for path in sorted(Path(tests_dir).glob("test_*.py")):
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        except (SyntaxError, UnicodeDecodeError, OSError):
            continue
        module_reqs = _module_marks(tree)
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name.startswith("test"):
                reqs = module_reqs + [r for d in node.decorator_list for r in _reqs_mark(d)]
                if reqs:
                    out.append((f"{path.name}::{node.name}", reqs))
    return out


def _module_marks(tree):
    """`pytestmark = pytest.mark.reqs(...)` (or a list of marks) at module level."""
    out = []
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "pytestmark" for t in node.targets):
            values = node.value.elts if isinstance(node.value, (ast.List, ast.Tuple)) else [node.value]
            for v in values:
                out.extend(_reqs_mark(v))
    return out


def _reqs_mark(node):
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "reqs":
        return [a.value for a in node.args if isinstance(a, ast.Constant) and isinstance(a.value, str)]
    return []
