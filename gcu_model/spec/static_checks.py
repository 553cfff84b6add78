"""Static checks of a spec (design.md, python-statemachine).

At load, over the text alone (milliseconds):
- duplicate transitions: same trigger, same sources, same selector;
- states that can never be entered: not initial, no transition goes there, no effect
  sets them;
- a family declared `symmetric` whose instances a rule tells apart (explore/symmetry.py).

In `gcu-model check`, over every configuration ground (seconds; `check_configurations`,
cached by spec digest in spec/check_cache.py):
- ambiguous transitions: for some configuration, action and state, two transitions'
  sources overlap and their selectors (`when`) can both hold (z3 gives the witness);
- transitions that can never fire: in no configuration can their trigger select them.
"""
from __future__ import annotations

import ast

import z3

from . import expr as E

def run_load_checks(spec) -> None:
    """The checks over the spec's text, run by every load."""
    from ..explore.symmetry import validate as symmetric_families_hold
    symmetric_families_hold(spec)          # families.yaml `symmetric:`
    _duplicates(spec)
    _unenterable_states(spec)


def check_configurations(spec, systems=None) -> bool:
    """The checks over every configuration ground: InvalidSpec at the first problem. Skipped
    (False returned) when this spec's digest passed them before; `systems` are ones the
    caller has built already (config name -> System), reused."""
    from . import check_cache
    key = check_cache.key(spec)
    if key is not None and check_cache.passed(key):
        return False
    _per_config(spec, systems or {})
    if key is not None:
        check_cache.record(key)
    return True


def _duplicates(spec):
    seen = {}
    for t in spec.transitions:
        when = ast.dump(ast.parse(t.when_source.strip(), mode="eval")) if t.when_source else ""
        key = (t.trigger, tuple(sorted(t.sources)), when)
        if key in seen:
            first = seen[key]
            raise t.where.error(f"duplicate transition: {t.id} has the trigger, sources and 'when' of "
                                f"{first.id} ({first.where})", t.trigger)
        seen[key] = t


def _entered_by_effects(spec):
    """(family, control var) -> state names some effect assigns (None: any state)."""
    out = {}

    def literal_values(node):
        if isinstance(node, E.Lit):
            return {node.value}
        if isinstance(node, E.Cond):
            a, b = literal_values(node.then), literal_values(node.orelse)
            return None if a is None or b is None else a | b
        return None

    def walk(stmts):
        for st in stmts:
            if isinstance(st, E.Assign):
                key = (st.target.family, st.target.var)
                vals = literal_values(st.value)
                if vals is None:
                    out[key] = None
                elif out.get(key, set()) is not None:
                    out.setdefault(key, set()).update(vals)
            elif isinstance(st, E.If):
                walk(st.body)
                walk(st.orelse)
            elif isinstance(st, E.For):
                walk(st.body)

    for t in spec.transitions:
        walk(t.effect)
    return out


def _unenterable_states(spec):
    by_effect = _entered_by_effects(spec)
    for m in spec.machines.values():
        entered = set(m.initial) | {t.dest for t in m.transitions if t.dest is not None}
        extra = by_effect.get((m.family, m.control), set())
        if extra is None:
            continue
        entered |= extra
        for s in m.states:
            if s not in entered:
                raise m.state_where[s].error(f"state '{s}' of machine '{m.name}' can never be entered: it is not initial, "
                                    f"no transition goes to it and no effect sets it", s)


def _per_config(spec, systems):
    from ..core.system import System
    from ..core.z3terms import Z3Encoder

    selectable = set()
    for config in spec.configs.values():
        system = systems.get(config.name) or System(spec, config)
        enc = Z3Encoder(system.layout)
        solver = z3.Solver()
        solver.set("timeout", 5000)
        solver.add(*enc.domain())
        for ga in system.actions:
            rules = list(ga.rules)
            for k, rule in enumerate(rules):
                tid = rule.transition.id
                if tid not in selectable:
                    if rule.when == ("lit", True) or _sat(solver, enc, [rule.when], ga, rule.sources):
                        selectable.add(tid)
                for other in rules[k + 1:]:
                    common = set(rule.sources) & set(other.sources)
                    if not common:
                        continue
                    model = _sat(solver, enc, [rule.when, other.when], ga, common, want_model=True)
                    if model is not None and model is not False:
                        t1, t2 = rule.transition, other.transition
                        raise t2.where.error(
                            f"ambiguous transitions: {t1.id} ({t1.where}) and {t2.id} can both apply to "
                            f"{ga.action} in configuration {config.name}, e.g. when {model}; "
                            f"make their 'when' conditions exclusive", t2.trigger)
    for t in spec.transitions:
        if t.id not in selectable:
            raise t.where.error(f"transition {t.id} can never fire: in no configuration can '{t.trigger}' "
                                f"select it (its 'when' never holds in its source states)", t.trigger)


def _sat(solver, enc, terms, ga, sources, want_model=False):
    if any(t == ("lit", False) for t in terms):
        return None if want_model else False
    solver.push()
    try:
        control = enc.vars[ga.control]
        solver.add(z3.Or(*[control == s for s in sorted(sources)]))
        for t in terms:
            if t != ("lit", True):
                solver.add(enc.term(t))
        result = solver.check()
        if result != z3.sat:
            return None if want_model else False
        if not want_model:
            return True
        m = solver.model()
        from ..core.ground import slots_read
        relevant = {ga.control}
        for t in terms:
            slots_read(t, relevant)
        shown = []
        for slot, v in zip(enc.layout.slots, enc.vars):
            if slot.index not in relevant:
                continue
            val = m.eval(v, model_completion=True)
            if not z3.eq(val, v):
                py = val.as_long() if z3.is_int_value(val) or z3.is_bv_value(val) else z3.is_true(val)
                shown.append(f"{slot.label}={enc.layout.decode(py, slot.type)}")
        return ", ".join(shown) or "in any state"
    finally:
        solver.pop()
