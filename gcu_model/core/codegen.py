"""Ground rules -> one generated Python successor function (the explorer's fast path).

The explorer calls this function once per state; it unpacks the state tuple into
locals, evaluates every action's checks and transitions inline and builds successor
tuples directly. No Python is taken from spec text: the source below is produced from
the ground terms, which only hold slot numbers, literals and operators (see ground.py).
The generated source is kept on the result (`source`) for `gcu-model explore --dump-code`.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from .ground import assigned_slots, slots_read

@dataclass(frozen=True)
class TermSyntax:
    """How one target language writes what the ground terms hold (ground.py): the walk is
    the same for every back end (this module's Python, explore/promela.py's Promela), only
    these spellings differ. Templates take the operands as {0}, {1}, {2}."""
    lit: Callable[[object], str]
    negate: str            # not x
    conj: str              # the separator of `and`
    disj: str              # the separator of `or`
    cond: str              # c ? a : b, as {0}, {1}, {2}
    floordiv: str          # a // b, 0 when b is 0
    popcount: Callable[[str], str]   # len() of a set held as a bit mask
    minimum: str
    maximum: str


PYTHON = TermSyntax(lit=repr, negate="(not {0})", conj=" and ", disj=" or ", cond="({1} if {0} else {2})",
                    floordiv="_div({0}, {1})", popcount=lambda x: f"bin({x}).count('1')",
                    minimum="min({0}, {1})", maximum="max({0}, {1})")


def render_term(t, rd, syntax: TermSyntax) -> str:
    """A ground term as source text of `syntax`; `rd(slot)` names a slot's value."""
    kind = t[0]
    if kind == "lit":
        return syntax.lit(t[1])
    if kind == "slot":
        return rd(t[1])
    def r(x):
        return render_term(x, rd, syntax)
    if kind == "not":
        return syntax.negate.format(r(t[1]))
    if kind == "neg":
        return f"(-{r(t[1])})"
    if kind == "bin":
        a, b = r(t[2]), r(t[3])
        if t[1] == "-set":
            return f"({a} & ~{b})"
        if t[1] == "//":
            return syntax.floordiv.format(a, b)
        return f"({a} {t[1]} {b})"
    if kind == "cmp":
        return f"({r(t[2])} {t[1]} {r(t[3])})"
    if kind in ("and", "or"):
        return "(" + (syntax.conj if kind == "and" else syntax.disj).join(r(x) for x in t[1]) + ")"
    if kind == "if":
        return syntax.cond.format(r(t[1]), r(t[2]), r(t[3]))
    if kind == "call":
        args = [r(x) for x in t[2]]
        if t[1] == "len":
            return syntax.popcount(args[0])
        return (syntax.minimum if t[1] == "min" else syntax.maximum).format(*args)
    raise ValueError(f"unknown ground term {kind}")


def term(t, rd) -> str:
    return render_term(t, rd, PYTHON)


class _Writer:
    def __init__(self):
        self.lines = []

    def __call__(self, depth, text):
        self.lines.append("    " * depth + text)


def _v(i):
    return f"v{i}"


def _statements(out, depth, stmts, rd, assigned_name):
    for st in stmts:
        if st[0] == "set":
            out(depth, f"{assigned_name(st[1])} = {term(st[2], rd)}")
        else:
            out(depth, f"if {term(st[1], rd)}:")
            if st[2]:
                _statements(out, depth + 1, st[2], rd, assigned_name)
            else:
                out(depth + 1, "pass")
            if st[3]:
                out(depth, "else:")
                _statements(out, depth + 1, st[3], rd, assigned_name)


def _touches(stmts, slot) -> bool:
    return slot in assigned_slots(stmts) or any(slot in _reads(st) for st in stmts)


def _reads(st) -> set:
    if st[0] == "set":
        return slots_read(st[2])
    acc = slots_read(st[1])
    for inner in st[2] + st[3]:
        acc |= _reads(inner)
    return acc


def _first_written(stmts) -> set:
    """Slots whose first use is an unconditional top-level write that does not read them:
    they need no `w = v` copy first."""
    fresh, touched = set(), set()
    for st in stmts:
        if st[0] == "set" and st[1] not in touched and st[1] not in slots_read(st[2]):
            fresh.add(st[1])
        touched |= _reads(st) | assigned_slots([st])
    return fresh


def _accept(out, e, ga, rule, mode, nslots):
    """Emit the effect of an accepted rule and the hand-over of the successor."""
    assigned = assigned_slots(rule.effect)
    if rule.dest is not None:
        assigned = assigned | {ga.control}
    fresh = _first_written(rule.effect)
    if rule.dest is not None and not _touches(rule.effect, ga.control):
        fresh.add(ga.control)
    for i in sorted(assigned - fresh):
        out(e, f"w{i} = v{i}")

    def rd(i, assigned=assigned):
        return f"w{i}" if i in assigned else f"v{i}"
    _statements(out, e, rule.effect, rd, lambda i: f"w{i}")
    if rule.dest is not None:
        out(e, f"w{ga.control} = {rule.dest}")
    new = "(" + ", ".join(rd(i) for i in range(nslots)) + ("," if nslots == 1 else "") + ")"
    same = " and ".join(f"w{i} == v{i}" for i in sorted(assigned)) if len(assigned) <= 8 else None
    if mode == "count":
        # counting needs new states only: a step that changes nothing adds none
        if not assigned:
            out(e, "pass")
            return
        if same:
            out(e, f"if not ({same}):")
            e += 1
    elif not assigned:
        new = "s"          # nothing changes: hand back the same tuple (the explorer checks `is`)
    elif same:
        new = f"(s if {same} else {new})"
    if rule.bounded:
        checks = " and ".join(f"{lo} <= w{slot} <= {hi}" for slot, lo, hi in rule.bounded)
        out(e, f"if {checks}:")
        out(e + 1, f"ap(({rule.label}, {new}))" if mode == "expand" else f"ap({new})")
        if mode == "expand":
            out(e, "else:")
            out(e + 1, f"bd({rule.label})")
    elif mode == "expand":
        out(e, f"ap(({rule.label}, {new}))")
    else:
        out(e, f"ap({new})")


def _check_chain(out, depth, checks, refuse):
    """Ordered guard checks: the first failing one refuses. Returns the depth at which the
    accepting code goes, or None when a check that is always false ends the chain."""
    opened = False
    for t, rid in checks:
        if t == ("lit", True):
            continue
        if t == ("lit", False):             # refused whatever the state
            if opened:
                out(depth, "else:")
                depth += 1
            refuse(depth, rid)
            return None
        out(depth, f"{'elif' if opened else 'if'} not {term(t, _v)}:")
        refuse(depth + 1, rid)
        opened = True
    if opened:
        out(depth, "else:")
        depth += 1
    return depth


def _action_block(out, depth, system, ga):
    """One action in `expand`: its checks, then the rule whose source and `when` hold
    (rules are exclusive, see static_checks), its guard checks, and the accepted step."""
    nslots = len(system.layout.slots)

    def refuse(d, rid):
        out(d, f"rf(({ga.id}, {rid}))")

    out(depth, f"# {ga.action}")
    d = _check_chain(out, depth, ga.checks, refuse)
    if d is None:
        return
    first = True
    for rule in ga.rules:
        sources = sorted(rule.sources)
        src = (f"v{ga.control} == {sources[0]}" if len(sources) == 1
               else f"v{ga.control} in {tuple(sources)!r}")
        if len(sources) == len(ga.states):
            src = "True"
        cond = src if rule.when == ("lit", True) else f"{src} and {term(rule.when, _v)}"
        out(d, f"{'if' if first else 'elif'} {cond}:")
        first = False
        e = _check_chain(out, d + 1, rule.checks, refuse)
        if e is not None:
            _accept(out, e, ga, rule, "expand", nslots)
    if first:
        refuse(d, ga.otherwise)
    else:
        out(d, "else:")
        refuse(d + 1, ga.otherwise)


def _count_rule(out, depth, system, ga, rule, with_source):
    """One accepted-only rule as a single flat condition."""
    conds = []
    sources = sorted(rule.sources)
    if with_source and len(sources) < len(ga.states):
        conds.append(f"v{ga.control} == {sources[0]}" if len(sources) == 1
                     else f"v{ga.control} in {tuple(sources)!r}")
    if rule.when != ("lit", True):
        conds.append(term(rule.when, _v))
    conds += [term(t, _v) for t, _ in ga.checks if t != ("lit", True)]
    conds += [term(t, _v) for t, _ in rule.checks if t != ("lit", True)]
    out(depth, f"# {ga.action}: {rule.transition.id}")
    out(depth, f"if {' and '.join(conds) or 'True'}:")
    _accept(out, depth + 1, ga, rule, "count", len(system.layout.slots))


def _count_body(out, depth, system):
    """Counting needs accepted steps only. Rules are grouped by the control state they
    start from, so each state tests one value per control slot instead of every rule's source."""
    grouped: dict = {}
    anywhere = []
    for ga in system.actions:
        if any(t == ("lit", False) for t, _ in ga.checks):
            continue                      # always refused in this configuration
        for rule in ga.rules:
            if any(t == ("lit", False) for t, _ in rule.checks):
                continue                  # a rule that only ever refuses
            if len(rule.sources) == len(ga.states):
                anywhere.append((ga, rule))
                continue
            for value in sorted(rule.sources):
                grouped.setdefault(ga.control, {}).setdefault(value, []).append((ga, rule))
    for ga, rule in anywhere:
        _count_rule(out, depth, system, ga, rule, with_source=False)
    for control in sorted(grouped):
        first = True
        for value in sorted(grouped[control]):
            out(depth, f"{'if' if first else 'elif'} v{control} == {value}:")
            first = False
            for ga, rule in grouped[control][value]:
                _count_rule(out, depth + 1, system, ga, rule, with_source=False)


def generate(system):
    """Source of `expand(s) -> (successors, refusals, bound_hits)`, `successors(s)`, `count_into`,
    the invariant checks and the goal predicates."""
    n = len(system.layout.slots)
    unpack = "(" + ", ".join(_v(i) for i in range(n)) + ("," if n == 1 else "") + ") = s"
    out = _Writer()
    out(0, f"# generated by gcu_model.core.codegen for configuration {system.config.name}; do not edit")
    out(0, "def _div(a, b):")
    out(1, "return a // b if b else 0")
    out(0, "def expand(s):")
    out(1, unpack)
    out(1, "succ = []; refused = []; bound = []")
    out(1, "ap = succ.append; rf = refused.append; bd = bound.append")
    for ga in system.actions:
        _action_block(out, 1, system, ga)
    out(1, "return succ, refused, bound")
    out(0, "def successors(s):")
    out(1, unpack)
    out(1, "succ = []")
    out(1, "ap = succ.append")
    _count_body(out, 1, system)
    out(1, "return succ")
    # counting with the visited set inlined: a successor costs one hash unless it is new
    out(0, "def count_into(s, seen, push):")
    out(1, unpack)
    out(1, "add = seen.add")
    body = _Writer()
    _count_body(body, 1, system)
    for line in body.lines:
        stripped = line.lstrip()
        if stripped.startswith("ap(") and stripped.endswith(")"):
            pad = line[: len(line) - len(stripped)]
            out.lines.append(f"{pad}t = {stripped[3:-1]}")
            out.lines.append(f"{pad}if t not in seen:")
            out.lines.append(f"{pad}    add(t)")
            out.lines.append(f"{pad}    push(t)")
        else:
            out.lines.append(line)
    out(0, "def first_violation(s):")
    out(1, unpack)
    for k, t in enumerate(system.invariant_terms):
        out(1, f"if not {term(t, _v)}:")
        out(2, f"return {k}")
    out(1, "return -1")
    out(0, "def violations(s):")
    out(1, unpack)
    out(1, "out = []")
    for k, t in enumerate(system.invariant_terms):
        out(1, f"if not {term(t, _v)}:")
        out(2, f"out.append({k})")
    out(1, "return out")
    for k, t in enumerate(system.goal_terms):
        out(0, f"def goal_{k}(s):")
        out(1, unpack)
        out(1, f"return {term(t, _v)}")
    out(0, "goals = [" + ", ".join(f"goal_{k}" for k in range(len(system.goal_terms))) + "]")
    return "\n".join(out.lines) + "\n"


class Compiled:
    def __init__(self, system):
        self.source = generate(system)
        namespace = {"__builtins__": {"bin": bin, "min": min, "max": max}}
        code = compile(self.source, f"<gcu-model generated: {system.config.name}>", "exec")
        exec(code, namespace)  # noqa: S102 - source generated from ground terms, never from spec text
        self.expand = namespace["expand"]
        self.successors = namespace["successors"]
        self.count_into = namespace["count_into"]
        self.first_violation = namespace["first_violation"]
        self.violations = namespace["violations"]
        self.goals = namespace["goals"]
