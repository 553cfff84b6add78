"""Invariant proofs by induction with z3 (issue 4, item 2).

For one configuration, every invariant is proven inductive relative to the others over
the symbolic transition relation (`relation.symbolic_steps`):

    Inv_1(s) and ... and Inv_n(s) and T(s, s')  implies  Inv_k(s')

with counters bounded by an exploration bound (max_opens) left unbounded, unlike in the
explorer. The initial states are concrete, so the base case is checked on each of them.
Every step must also keep each written variable inside its type (an int never goes below
its minimum, nor above a maximum that is not an exploration bound): that obligation is
what lets the induction assume the same of s.

When a step breaks an invariant, z3's model is a counterexample to induction (a state
and an action). A bounded model check from the initial states (the explorer) then tells
a real violation, with its shortest trace, from an invariant that needs strengthening.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import z3

from ..core.ground import slots_read
from ..core.system import System
from ..core.z3terms import Z3Encoder
from . import bitlevel
from .relation import substitution, symbolic_steps

DOMAIN = "variables stay within their types"


@dataclass
class CounterexampleToInduction:
    action: str          # the action, as the explorer writes it
    rule: str            # the transition that handles it
    state: dict          # the state before (every variable, as `describe` gives it)
    changes: dict        # variable -> [before, after] for the variables the step changes

    def as_dict(self) -> dict:
        return {"action": self.action, "rule": self.rule, "state": self.state, "changes": self.changes}


@dataclass
class InvariantProof:
    name: str
    reqs: tuple
    status: str                      # proven | not_inductive | violated | unknown
    cti: CounterexampleToInduction | None = None
    trace: dict | None = None        # for `violated`: initial state, actions, final state

    def as_dict(self) -> dict:
        out = {"name": self.name, "reqs": list(self.reqs), "status": self.status}
        if self.cti is not None:
            out["counterexample_to_induction"] = self.cti.as_dict()
        if self.trace is not None:
            out["trace"] = self.trace
        return out


@dataclass
class ConfigProof:
    config: str
    invariants: list = field(default_factory=list)   # InvariantProof
    domain: InvariantProof | None = None
    bit_facts: list = field(default_factory=list)    # InvariantProof (inductive) and bitlevel.FirewallProof
    steps: int = 0                   # symbolic steps (action, rule) in the relation
    queries: int = 0                 # z3 checks made
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return all(p.status == "proven" for p in self.invariants + self.bit_facts) and self.domain.status == "proven"

    def as_dict(self) -> dict:
        return {"config": self.config, "ok": self.ok, "steps": self.steps, "queries": self.queries,
                "seconds": round(self.seconds, 3), "domain": self.domain.as_dict(),
                "invariants": [p.as_dict() for p in self.invariants],
                "bit_facts": [p.as_dict() for p in self.bit_facts]}


def prove(spec, config, only: list | None = None, timeout_ms: int = 20000,
          bounded_check: bool = True) -> ConfigProof:
    """Prove the invariants of `config` (a name, or a Config such as a composed host's; all
    invariants, or the names in `only`). A failed step is told apart as a real violation by
    exploring the configuration, unless `bounded_check` is off (a host too big to explore)."""
    started = time.perf_counter()
    system = System(spec, config, unbounded_counters=True)
    enc = Z3Encoder(system.layout)
    domain = enc.domain()
    chosen = [k for k, p in enumerate(system.invariants) if only is None or p.name in only]
    inv_z3 = {k: enc.term(t) for k, t in enumerate(system.invariant_terms)}
    reads = {k: slots_read(t) for k, t in enumerate(system.invariant_terms)}
    proofs = {k: InvariantProof(system.invariants[k].name, system.invariants[k].reqs, "proven") for k in chosen}
    domain_proof = InvariantProof(DOMAIN, (), "proven")
    result = ConfigProof(getattr(config, "name", config), [proofs[k] for k in chosen], domain_proof)
    # bit-level facts that are inductive are proven alongside, as extra obligations
    extras = [f for f in [bitlevel.reset_bits_fact(spec, system, enc)] if f is not None] if only is None else []
    for i, fact in enumerate(extras):
        key = ("bits", i)
        chosen.append(key)
        inv_z3[key] = fact.term
        proofs[key] = InvariantProof(fact.name, fact.reqs, "proven")
        result.bit_facts.append(proofs[key])
        for state in system.initial:
            if not fact.holds(state) and proofs[key].status == "proven":
                proofs[key].status = "violated"
                proofs[key].trace = {"initial": system.describe(state), "actions": [], "state": system.describe(state)}

    # base case: every initial state satisfies the invariants (the initial states are concrete)
    for state in system.initial:
        broken = set(system.check_invariants(state))
        for k in chosen:
            if isinstance(k, int) and proofs[k].status == "proven" and system.invariants[k].name in broken:
                proofs[k].status = "violated"
                proofs[k].trace = {"initial": system.describe(state), "actions": [], "state": system.describe(state)}

    solver = z3.Solver()
    solver.set("timeout", timeout_ms)
    solver.add(*domain)
    for i, fact in enumerate(extras):
        reads[("bits", i)] = fact.slots
    solver.add(*inv_z3.values())             # induction hypothesis: every invariant holds in s
    domain_of = _domain_by_slot(enc, system)
    for step in symbolic_steps(system, enc):
        result.steps += 1
        written = set(step.post)
        pairs = substitution(enc, step.post)
        goals = {k: z3.substitute(inv_z3[k], *pairs) for k in chosen
                 if proofs[k].status == "proven" and reads[k] & written}
        if domain_proof.status == "proven":
            bounds = [z3.substitute(c, *pairs) for slot in written for c in domain_of.get(slot, ())]
            if bounds:
                goals[DOMAIN] = z3.And(*bounds)
        while goals:
            solver.push()
            solver.add(step.pre)
            solver.add(z3.Or(*[z3.Not(g) for g in goals.values()]))
            result.queries += 1
            verdict = solver.check()
            if verdict == z3.unsat:
                solver.pop()
                break
            if verdict != z3.sat:
                solver.pop()
                for key in goals:
                    target = domain_proof if key == DOMAIN else proofs[key]
                    target.status = "unknown"
                break
            model = solver.model()
            broken = [key for key, g in goals.items() if z3.is_false(model.eval(g, model_completion=True))]
            cti = _cti(system, enc, model, step)
            solver.pop()
            for key in broken or list(goals):
                target = domain_proof if key == DOMAIN else proofs[key]
                target.status = "not_inductive"
                target.cti = cti
                del goals[key]

    failed = [p for p in result.invariants if p.status == "not_inductive"]
    failed_facts = [(fact, proofs[("bits", i)]) for i, fact in enumerate(extras)
                    if proofs[("bits", i)].status == "not_inductive"]
    if (failed or failed_facts) and bounded_check:
        _bounded_check(spec, config, failed, failed_facts)
    if only is None:
        result.bit_facts += bitlevel.firewall_facts(spec, system, enc, domain + list(inv_z3.values()))
    result.seconds = time.perf_counter() - started
    return result


def _domain_by_slot(enc, system) -> dict:
    """slot -> the type constraints a step that writes it must keep."""
    out = {}
    for slot, v in zip(system.layout.slots, enc.vars):
        t = slot.lo is not None
        if t:
            out[slot.index] = [v >= slot.lo] + ([v <= slot.hi] if slot.hi is not None else [])
    return out


def _value(model, var):
    v = model.eval(var, model_completion=True)
    if z3.is_bool(v):
        return z3.is_true(v)
    return v.as_long()


def _cti(system, enc, model, step) -> CounterexampleToInduction:
    before = tuple(_value(model, v) for v in enc.vars)
    after = list(before)
    for slot, term in step.post.items():
        after[slot] = _value(model, term)
    d_before, d_after = system.describe(before), system.describe(tuple(after))
    changes = {k: [d_before[k], d_after[k]] for k in d_before if d_before[k] != d_after[k]}
    return CounterexampleToInduction(step.text, step.rule.transition.id, d_before, changes)


def _bounded_check(spec, config, failed, failed_facts=()):
    """Explore the configuration from its initial states (a complete bounded model check
    within the exploration bounds): a failed induction step whose invariant the search
    violates is a real bug, with the explorer's shortest trace."""
    from ..explore.explorer import explore
    result = explore(System(spec, config))
    sysm = result.system
    found = {v.invariant: v for v in result.violations}
    for proof in failed:
        v = found.get(proof.name)
        if v is not None:
            proof.status = "violated"
            proof.trace = {"initial": sysm.describe(result.states[v.initial]),
                           "actions": [str(a) for a in v.path],
                           "state": sysm.describe(result.states[v.state])}
    for fact, proof in failed_facts:
        # the bit-level fact reads the explorer's own layout (no counters unbounded there)
        check = bitlevel.reset_bits_fact(spec, sysm, Z3Encoder(sysm.layout))
        node = next((n for n, state in enumerate(result.states) if not check.holds(state)), None)
        if node is not None:           # states are numbered in breadth-first order
            proof.status = "violated"
            proof.trace = {"initial": sysm.describe(result.states[result.root_of(node)]),
                           "actions": [str(a) for a in result.path_to(node)],
                           "state": sysm.describe(result.states[node])}
