"""Can an action ever be accepted? A z3 query over the same symbolic steps the proofs use
(relation.py), for `gcu-model lint` and `plan` (issue 7): when no state accepts it, no
sequence of commands makes the step legal, and saying so beats searching a space of
millions of states for a fix that does not exist.

Two questions, the cheaper first:
  1. is there any state of the variables' types in which some rule of the action is
     selected and all its checks hold? (No: the rules refuse it everywhere, e.g. a
     `require: "False"` guard such as RST-4's VF hot reset inside a VM.)
  2. is there one that also keeps every invariant of the configuration? The invariants
     hold in every reachable state (`gcu-model check` explores and proves them), so no
     reachable state accepts the action either.
Only an `unsat` answer counts; `sat` or a timeout says nothing.
"""
from __future__ import annotations

import z3

from ..core.z3terms import Z3Encoder
from .relation import symbolic_steps

TIMEOUT_MS = 5000


def never_accepted(system, action_text: str) -> str | None:
    """Why no reachable state of `system` accepts the action, or None when one may."""
    ga = system.action(action_text)
    enc = Z3Encoder(system.layout)
    pres = [step.pre for step in symbolic_steps(system, enc, names={ga.decl.name}) if step.action is ga]
    if not pres:
        return "no rule of the spec handles it"
    solver = z3.Solver()
    solver.set("timeout", TIMEOUT_MS)
    solver.add(*enc.domain())
    solver.add(z3.Or(*pres))
    if solver.check() == z3.unsat:
        return "the spec refuses it in every state"
    solver.add(*[enc.term(t) for t in system.invariant_terms])
    if solver.check() == z3.unsat:
        return "no state that keeps the invariants accepts it"
    return None
