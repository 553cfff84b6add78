"""The three questions `gcu-model solve` answers (issue 4, item 1).

- check: is this set-up (command lines, on hosts with these facts) legal? If not, the
  smallest set of the spec's checks that forbids it, from a minimal unsat core, with
  their requirement IDs.
- goal: a shortest set-up after which an expression over the model's state and
  quantities holds, printed as the commands a user types; or "impossible", with the
  requirement IDs of the checks that rule it out.
- all: every valid configuration: the facts and install choices with which a complete
  set-up (configs.yaml `solver: complete`) exists, and the quantities it gives; and every
  fact combination with none, with the reason.
"""
from __future__ import annotations

import dataclasses
import shlex
from dataclasses import dataclass, field

import z3

from ..core.outcome import Accepted, action_name
from ..shell.commands import CommandError, parse, render, split_line
from ..spec.errors import InvalidSpec, Where
from ..spec.expr import ConstRef, FactRef, QuantityRef, Scope, VarRef, check_expr
from .space import combinations, describe_facts, system_for
from .unroll import Found, Unrolling


class QueryError(ValueError):
    """Bad input to a query: an unknown command, a malformed goal."""


@dataclass
class Reason:
    """The checks (from an unsat core) that forbid a query, and their requirement IDs."""
    checks: list                     # [{"check", "errno", "message", "reqs"}]
    reqs: list                       # sorted union of the checks' IDs
    note: str = ""                   # when no check is involved: why it still cannot hold

    def as_dict(self) -> dict:
        return {"reqs": self.reqs, "checks": self.checks} | ({"note": self.note} if self.note else {})


@dataclass
class CheckAnswer:
    facts: dict
    valid: bool
    steps: list = field(default_factory=list)   # [{"command", "action", "outcome", ...}]
    reason: Reason | None = None

    def as_dict(self) -> dict:
        out = {"host": describe_facts(self.facts), "facts": self.facts, "valid": self.valid, "steps": self.steps}
        return out | ({"forbidden_by": self.reason.as_dict()} if self.reason else {})


@dataclass
class GoalAnswer:
    facts: dict
    possible: bool
    actions: list = field(default_factory=list)
    commands: list = field(default_factory=list)
    reason: Reason | None = None

    def as_dict(self) -> dict:
        out = {"host": describe_facts(self.facts), "facts": self.facts, "possible": self.possible}
        if self.possible:
            return out | {"commands": self.commands, "actions": self.actions}
        return out | {"impossible_because": self.reason.as_dict()}


def parse_setup(text: str, spec) -> list:
    """Lines (or ';' / '&&' separated commands), comments and blank lines skipped."""
    out = []
    for n, raw in enumerate(text.splitlines(), 1):
        try:
            parts = split_line(raw)
        except ValueError as exc:
            raise QueryError(f"line {n}: {exc}") from None
        piped = [words for joiner, words in parts if joiner == "|"]
        if piped:
            raise QueryError(f"line {n}: a set-up has no pipes ('| {shlex.join(piped[0])}')")
        for _, words in parts:
            try:
                out.extend(parse(shlex.join(words), spec).singles())   # options the model leaves alone drop out
            except CommandError as exc:
                raise QueryError(f"line {n}: {exc}") from None
    if not out:
        raise QueryError("the set-up has no command")
    return out


def check(spec, setup_text: str, fixed: dict) -> list:
    parsed = parse_setup(setup_text, spec)
    answers = []
    for facts in combinations(spec, fixed):
        system = system_for(spec, facts)
        unknown = [p.action for p in parsed if p.action not in system.by_text]
        if unknown:
            raise QueryError(f"'{unknown[0]}' is not an action on {describe_facts(facts)}")
        steps, state, ok = [], system.initial[0], True
        for p in parsed:
            entry = {"command": p.line.strip(), "action": p.action}
            outcome = system.step(state, p.action) if ok else None
            if outcome is None:
                entry["outcome"] = "not reached"
            elif isinstance(outcome, Accepted):
                entry["outcome"] = "accepted"
                entry["output"] = list(outcome.observations)
                state = outcome.state
            else:
                ok = False
                entry["outcome"] = "refused"
                entry["errno"] = getattr(outcome, "errno", None)
                entry["message"] = getattr(outcome, "message", outcome.summary())
                entry["check"] = getattr(outcome, "rule", "")
                entry["reqs"] = list(getattr(outcome, "reqs", ()))
            steps.append(entry)
        reason = None
        if not ok:
            u = Unrolling(system, {action_name(p.action) for p in parsed}, len(parsed))
            constraint = z3.And(*[u.choose(i, p.action) for i, p in enumerate(parsed)])
            core = u.solve(constraint)
            reason = _reason(u, core if isinstance(core, list) else [], steps, system)
        answers.append(CheckAnswer(facts, ok, steps, reason))
    return answers


def goal(spec, expr_text: str, fixed: dict, max_steps: int = 4) -> list:
    ir = _goal_ir(spec, expr_text)
    answers = []
    for facts in combinations(spec, fixed):
        system = system_for(spec, facts)
        term = system.grounder.term(ir, {"params": {}, "self": None, "bound": {}})
        u = Unrolling(system, set(spec.solver.setup_actions), max_steps)
        target = _at_step_end(u, term)
        found = _shortest(u, target)
        core = u.solve(target) if found is None else None
        if found is not None:
            answers.append(GoalAnswer(facts, True, found.actions, [render(a, spec) for a in found.actions]))
        else:
            reason = _reason(u, core or [], [], system)
            if not reason.checks:
                reason.note = _why_no_check(spec, ir, system)
            answers.append(GoalAnswer(facts, False, reason=reason))
    return answers


def all_configs(spec, fixed: dict) -> dict:
    """Every valid configuration, and every fact combination that has none (with why)."""
    complete = _goal_ir(spec, spec.solver.complete)
    alphabet = {"write_vgcu_num", "install_base", "install_virt"}
    valid, invalid = [], []
    for facts in combinations(spec, fixed, vary_all=True):
        system = system_for(spec, facts)
        u = Unrolling(system, alphabet, 3)
        target = _at_step_end(u, system.grounder.term(complete, {"params": {}, "self": None, "bound": {}}))
        layout = system.layout
        hf = spec.family_of("host")
        mode, vf_num, vgcu = (u.encs[-1].vars[layout.slot_of[(hf, 0, v)]] if (hf, 0, v) in layout.slot_of
                              else None for v in ("mode", "vf_num", "vgcu_num_loaded"))
        blocked, found_any, core = [], False, None
        while True:
            result = u.solve(target, *blocked)
            if not isinstance(result, Found):
                core = result if not found_any else None
                break
            found_any = True
            d = system.describe(result.state)
            h = system.layout.instances[spec.family_of("host")][0].label + "."      # the host's and the
            c = system.layout.instances[spec.family_of("pf")][0].label + "."        # first card's labels
            same = [mode == _enc(system, "mode", d[h + "mode"]) if mode is not None else z3.BoolVal(True),
                    vf_num == d[h + "vf_num"] if vf_num is not None else z3.BoolVal(True)]
            if d[h + "mode"] == "vgcu" and vgcu is not None:
                same.append(vgcu == _enc(system, "vgcu_num_loaded", d[h + "vgcu_num_loaded"]))
            result = _shortest(u, z3.And(target, *same)) or result
            q = system.quantities(result.state)
            entry = {"host": describe_facts(facts), "facts": facts, "mode": d[h + "mode"], "vf_num": d[h + "vf_num"],
                     "vgcu_num": d[h + "vgcu_num_loaded"] if d[h + "mode"] == "vgcu" else None,
                     "numvfs": q.get(c + "numvfs", d.get(c + "numvfs")),
                     "l3_per_vf_mb": q[c + "l3_per_vf_mb"], "vgcu_nodes": q[c + "vgcu_count"],
                     "mdevs": q[c + "mdev_count"],
                     "commands": [render(a, spec) for a in result.actions]}
            valid.append(entry)
            blocked.append(z3.Not(z3.And(*same)))
        if not found_any:
            invalid.append({"host": describe_facts(facts), "facts": facts,
                            "forbidden_by": _reason(u, core or [], [], system).as_dict()})
    return {"valid": valid, "invalid": invalid}


# ---------------------------------------------------------------- helpers
def _goal_ir(spec, text):
    """The goal as an expression over the host's state, e.g. `host.kmd == 'loaded' and
    any(c.vgcu_count == 4 for c in card)`. A bare name of a card variable or quantity
    (`vgcu_count == 4`) means: on some card."""
    try:
        return check_expr(text, Where("the goal", None), Scope(spec))
    except InvalidSpec as first:
        wrapped = _on_some_card(spec, text)
        if wrapped is not None:
            try:
                return check_expr(wrapped, Where("the goal", None), Scope(spec))
            except InvalidSpec:
                pass
        raise QueryError(f"goal '{text}': {first}") from None


def _on_some_card(spec, text):
    import ast
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError:
        return None
    pf = spec.family_of("pf")
    card_names = {v for (f, v) in spec.vars if f == pf} | {q for (f, q) in spec.quantities if f == pf}
    hit = False

    class Qualify(ast.NodeTransformer):
        def visit_Name(self, node):
            nonlocal hit
            if node.id in card_names and node.id not in spec.constants:
                hit = True
                return ast.copy_location(ast.Attribute(ast.Name("c", ast.Load()), node.id, ast.Load()), node)
            return node
    body = ast.unparse(Qualify().visit(tree))
    return f"any({body} for c in {pf})" if hit else None


def _shortest(u, target):
    """A shortest set-up that reaches `target` (at most n steps, n = 0, 1, ...), with the
    plainest commands; None when there is none within the unrolling."""
    for n in range(u.k + 1):
        limit = [u.choice[n] == u.stop] if n < u.k else []
        result = u.solve(target, *limit)
        if isinstance(result, Found):
            return _plainest(u, result, target)
    return None


def _plainest(u, found, target):
    """Among set-ups as short as `found`, the one with the shortest commands, step by step
    (defaults rather than extra options: no --no-auto-load unless it is needed)."""
    n = len(found.actions)
    fixed = [u.choice[n] == u.stop] if n < u.k else []
    for i in range(n):
        name = action_name(found.actions[i])
        variants = sorted({st.text for st in u.steps if st.action.decl.name == name}, key=lambda t: (len(render(t, u.system.spec)), t))
        for text in variants:
            result = u.solve(target, *fixed, u.choose(i, text))
            if isinstance(result, Found):
                fixed.append(u.choose(i, text))
                found = result
                break
    return found


def _at_step_end(u, term):
    """The goal holds in the state after the last step taken (stops repeat the state)."""
    return u.at_end(term)


def _enc(system, var, value):
    from ..core.layout import Layout
    return Layout.encode(value, system.spec.vars[(system.spec.family_of("host"), var)].type)


def _reason(u, core_names, steps, system) -> Reason:
    checks = []
    reqs = set()
    for name in core_names:
        r = u.checks_of[name]
        checks.append({"check": name, "errno": r.errno, "message": r.text("…"), "reqs": list(r.reqs)})
        reqs.update(r.reqs)
    if not checks and steps:
        # no check alone is to blame (the step would also leave a variable's bounds, or no
        # rule handles the action there): the refusal the driver gives is the answer
        refused = next((s for s in steps if s["outcome"] == "refused"), None)
        if refused is not None:
            checks.append({"check": refused.get("check", ""), "errno": refused["errno"],
                           "message": refused["message"], "reqs": refused.get("reqs", [])})
            reqs.update(refused.get("reqs", []))
    return Reason(checks, sorted(reqs))


def _why_no_check(spec, ir, system) -> str:
    """No check is to blame: the goal is false by definitions and the host's constants."""
    nodes = list(_walk(ir))
    quantities = sorted({(n.family, n.name) for n in nodes if isinstance(n, QuantityRef)})
    read_vars = {(n.family, n.var) for n in nodes if isinstance(n, VarRef)}
    consts = sorted({n.name for n in nodes if isinstance(n, (ConstRef, FactRef))})
    parts = ["no set-up reaches it on this host, whatever the checks allow"]
    if quantities:
        reqs = sorted({r for fam, name in quantities for r in spec.quantities[(fam, name)].reqs})
        parts.append(f"it follows from the definition of {', '.join(n for _, n in quantities)} ({', '.join(reqs)})")
    if consts:
        shown = ", ".join(f"{c} = {system.config.display(c)}" for c in consts)
        parts.append(f"on {system.config.description}: {shown}")
    for fam, var in sorted(read_vars):
        t = spec.vars[(fam, var)].type
        if isinstance(getattr(t, "hi", None), str):
            parts.append(f"{var} is at most {t.hi} = {system.config.display(t.hi)} here")
    frozen = sorted({f"{system.layout.instances[fam][i].label}.{var} = "
                     f"{system.layout.decode(value, spec.vars[(fam, var)].type)}"
                     for (fam, i, var), value in system.layout.frozen.items() if (fam, var) in read_vars})
    if frozen:
        parts.append("this host never changes " + ", ".join(frozen))
    return "; ".join(parts)


def _walk(node):
    yield node
    if dataclasses.is_dataclass(node):
        for f in dataclasses.fields(node):
            v = getattr(node, f.name)
            for x in (v if isinstance(v, (list, tuple)) else [v]):
                if dataclasses.is_dataclass(x):
                    yield from _walk(x)
