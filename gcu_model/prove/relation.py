"""The symbolic transition relation of one configuration, for z3 (issue 4, item 2).

Built from the same ground rules the explorer runs (`System.actions`), so no rule is
written twice: an accepted step is one ground action and the rule it selects, with

  pre   the action's checks, the rule's source states and `when`, no earlier rule of the
        action selected (the first match wins, as in `System.step`), the rule's checks;
  post  the values of the slots the effect (and destination) writes, as z3 terms over
        the state before the step.

A refused step leaves the state unchanged, so it preserves every invariant by itself and
is not part of the relation.
"""
from __future__ import annotations

from dataclasses import dataclass

import z3

from ..core.ground import TRUE


@dataclass
class SymbolicStep:
    action: object       # GroundAction
    rule: object         # GroundRule
    selected: object     # z3 BoolRef: this rule handles the action (sources, when, no earlier rule)
    checks: list         # [(z3 BoolRef, refusal id)]: the action's checks, then the rule's guard
    post: dict           # slot -> z3 term (only the slots the step writes)

    @property
    def pre(self):
        """The step is accepted: the rule is selected and every check holds."""
        return z3.And(self.selected, *[c for c, _ in self.checks])

    @property
    def text(self) -> str:
        return str(self.action.action)


def symbolic_steps(system, enc, names=None):
    """Every (ground action, rule) pair of the configuration as a SymbolicStep (only the
    actions called `names`, when given)."""
    for ga in system.actions:
        if names is not None and ga.decl.name not in names:
            continue
        base = [(enc.term(t), rid) for t, rid in ga.checks if t != TRUE]
        control = enc.vars[ga.control]
        earlier = []
        for rule in ga.rules:
            chosen = z3.And(z3.Or(*[control == s for s in rule.sources]),
                            enc.term(rule.when) if rule.when != TRUE else z3.BoolVal(True))
            selected = z3.simplify(z3.And(*[z3.Not(e) for e in earlier], chosen))
            earlier.append(chosen)
            checks = base + [(enc.term(t), rid) for t, rid in rule.checks if t != TRUE]
            post = enc.statements(rule.effect, {})
            if rule.dest is not None:
                post[ga.control] = z3.IntVal(rule.dest)
            post = {slot: term for slot, term in post.items() if not term.eq(enc.vars[slot])}
            yield SymbolicStep(ga, rule, selected, checks, post)


def substitution(enc, post: dict) -> list:
    """Pairs for z3.substitute: each written slot's constant -> its value after the step."""
    return [(enc.vars[slot], term) for slot, term in post.items()]
