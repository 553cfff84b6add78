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
    pre: object          # z3 BoolRef
    post: dict           # slot -> z3 term (only the slots the step writes)

    @property
    def text(self) -> str:
        return str(self.action.action)


def symbolic_steps(system, enc):
    """Every (ground action, rule) pair of the configuration as a SymbolicStep."""
    for ga in system.actions:
        base = [enc.term(t) for t, _ in ga.checks if t != TRUE]
        control = enc.vars[ga.control]
        earlier = []
        for rule in ga.rules:
            selected = z3.And(z3.Or(*[control == s for s in rule.sources]),
                              enc.term(rule.when) if rule.when != TRUE else z3.BoolVal(True))
            checks = [enc.term(t) for t, _ in rule.checks if t != TRUE]
            pre = z3.And(*base, *[z3.Not(e) for e in earlier], selected, *checks)
            earlier.append(selected)
            post = enc.statements(rule.effect, {})
            if rule.dest is not None:
                post[ga.control] = z3.IntVal(rule.dest)
            post = {slot: term for slot, term in post.items() if not term.eq(enc.vars[slot])}
            yield SymbolicStep(ga, rule, z3.simplify(pre), post)


def substitution(enc, post: dict) -> list:
    """Pairs for z3.substitute: each written slot's constant -> its value after the step."""
    return [(enc.vars[slot], term) for slot, term in post.items()]
