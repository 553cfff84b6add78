"""Ground terms -> Python closures: the runtime's compiled conditions and effects.

This back end builds nested closures over the ground term tree; the explorer's back
end (codegen.py) generates flat Python source from the same terms. The differential
test runs both and requires identical outcomes (issue 2, item 5).
"""
from __future__ import annotations

import operator

_BIN = {"//": lambda a, b: a // b if b else 0, "+": operator.add, "-": operator.sub, "*": operator.mul, "|": operator.or_, "&": operator.and_,
        "-set": lambda a, b: a & ~b, "<<": operator.lshift}
_CMP = {"==": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le, ">": operator.gt,
        ">=": operator.ge}
_CALL = {"len": lambda m: bin(m).count("1"), "min": min, "max": max}


def term(t):
    """A callable values -> value for the ground term t (values: any sequence)."""
    kind = t[0]
    if kind == "lit":
        v = t[1]
        return lambda s: v
    if kind == "slot":
        return operator.itemgetter(t[1])
    if kind == "not":
        x = term(t[1])
        return lambda s: not x(s)
    if kind == "neg":
        x = term(t[1])
        return lambda s: -x(s)
    if kind in ("bin", "cmp"):
        f = (_BIN if kind == "bin" else _CMP)[t[1]]
        a, b = term(t[2]), term(t[3])
        return lambda s: f(a(s), b(s))
    if kind == "and":
        items = [term(x) for x in t[1]]
        return lambda s: all(f(s) for f in items)
    if kind == "or":
        items = [term(x) for x in t[1]]
        return lambda s: any(f(s) for f in items)
    if kind == "if":
        c, a, b = term(t[1]), term(t[2]), term(t[3])
        return lambda s: a(s) if c(s) else b(s)
    if kind == "call":
        f = _CALL[t[1]]
        args = [term(x) for x in t[2]]
        return lambda s: f(*[g(s) for g in args])
    raise ValueError(f"unknown ground term {kind}")


def evaluate(t, state):
    return term(t)(state)


def statements(stmts):
    """A callable that applies ground statements to a mutable list, in order."""
    ops = []
    for st in stmts:
        if st[0] == "set":
            slot, value = st[1], term(st[2])
            ops.append(lambda n, slot=slot, value=value: n.__setitem__(slot, value(n)))
        else:
            cond, then, orelse = term(st[1]), statements(st[2]), statements(st[3])
            ops.append(lambda n, c=cond, a=then, b=orelse: a(n) if c(n) else b(n))

    def run(n):
        for op in ops:
            op(n)
    return run


def compile_rule(rule):
    """(condition, guard checks, apply) closures for one ground rule."""
    when = term(rule.when)
    checks = [(term(t), rid) for t, rid in rule.checks]
    effect = statements(rule.effect)
    return when, checks, effect


def compile_action(system, ga):
    """state -> ("ok", rule, new state) | ("refused", refusal id, None) | ("bound", text, None)."""
    pre = [(term(t), rid) for t, rid in ga.checks]
    rules = [(set(r.sources), *compile_rule(r), r) for r in ga.rules]
    control, otherwise = ga.control, ga.otherwise
    slots = system.layout.slots

    def step(state):
        for cond, rid in pre:
            if not cond(state):
                return "refused", rid, None
        current = state[control]
        for sources, when, checks, effect, rule in rules:
            if current in sources and when(state):
                for cond, rid in checks:
                    if not cond(state):
                        return "refused", rid, None
                n = list(state)
                effect(n)
                if rule.dest is not None:
                    n[control] = rule.dest
                for slot, lo, hi in rule.bounded:
                    if not lo <= n[slot] <= hi:
                        return "bound", f"{slots[slot].label} would become {n[slot]} (bound {lo}..{hi})", None
                return "ok", rule, tuple(n)
        return "refused", otherwise, None
    return step
