"""The compositional check of a host too big to explore whole (issue 8, item 2).

Eight S60 cards with four VFs each, two VMs and a container have more reachable states
than any machine holds, even one per renaming: the explorer finds 176 orbit
representatives with one card, 8,304 with two, 102,356 with three (about x12 a card, so
some 10^9 with eight). A `composed:` host of configs.yaml is therefore checked in parts,
each exhaustive:

  1. its base configuration (one card) is an ordinary configuration: `check` explores it
     whole, every invariant and goal;
  2. the same host with two cards is explored whole, with symmetry reduction: every
     invariant, and the goals that need two cards, on every pair of cards;
  3. over the whole host (eight cards), z3 proves every invariant inductive: they hold in
     every reachable state of the big host, not only of its parts;
  4. z3 proves the cards interact only through the host's own machines (the KMD's life
     cycle, the packages): no step of any other machine changes two cards, in any state
     that keeps the invariants. Steps whose guard reads another card are listed
     (interaction.py), for the reader to see where the cards meet.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import z3

from ..core.system import System
from ..core.z3terms import Z3Encoder
from ..prove.induction import prove
from ..prove.relation import symbolic_steps
from .explorer import explore
from .interaction import owner_of_slot, touches
from .report import summary
from .symmetry import Canonicalizer
from ..core.outcome import action_name

TIMEOUT_MS = 20000


@dataclass
class Interference:
    action: str
    transition: str
    status: str            # "changes two instances" (z3 found a state) or "unknown" (z3 gave up)
    instances: list = field(default_factory=list)   # labels of the two it changes


@dataclass
class ComposedResult:
    name: str
    base: str
    family: str
    count: int
    pair: dict = field(default_factory=dict)          # report.summary of the two-instance host
    proof: object = None                              # ConfigProof over the whole host
    steps_checked: int = 0                            # steps that write slots of two instances or more
    interference: list = field(default_factory=list)  # Interference
    guards_reading_two: list = field(default_factory=list)   # "action: transition" outside the host machines
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.pair.get("ok", False) and self.proof is not None and self.proof.ok and not self.interference

    def as_dict(self) -> dict:
        return {"name": self.name, "base": self.base, "family": self.family, "count": self.count, "ok": self.ok,
                "pair": {k: self.pair[k] for k in ("config", "states", "edges", "symmetry", "ok", "seconds")}
                | {"invariants_held": sum(i["held"] for i in self.pair["invariants"]),
                   "invariants": len(self.pair["invariants"]),
                   "goals_reached": sum(g["reached"] for g in self.pair["goals"]), "goals": len(self.pair["goals"])},
                "proof": self.proof.as_dict(), "steps_checked": self.steps_checked,
                "interference": [vars(i) for i in self.interference],
                "guards_reading_two": self.guards_reading_two, "seconds": round(self.seconds, 3)}


def check_composed(spec, composed, timeout_ms: int = TIMEOUT_MS) -> ComposedResult:
    started = time.perf_counter()
    result = ComposedResult(composed.name, composed.base, composed.family, composed.count)
    base = spec.configs[composed.base]
    count_name = spec.families[composed.family].count
    values = dict(base.values)
    values[count_name] = 2
    pair_config = spec.derive_config(f"{composed.base} with 2 {composed.family}s", values, base.initial,
                                     base.description, base.where)
    pair_system = System(spec, pair_config)
    result.pair = summary(explore(pair_system, graph=False, symmetry=Canonicalizer(pair_system)))
    result.proof = prove(spec, composed.config, timeout_ms=timeout_ms, bounded_check=False)
    system = System(spec, composed.config)
    result.steps_checked, result.interference = _interference(system, composed.family, timeout_ms)
    host_machines = _host_machines(spec)
    result.guards_reading_two = sorted({f"{action_name(t.action)}: {t.transition}"
                                        for t in touches(system, composed.family)
                                        if t.machine not in host_machines and len(t.reads) > 1})
    result.seconds = time.perf_counter() - started
    return result


def _host_machines(spec) -> set:
    """The machines of the host itself: their steps act on the host as a whole."""
    return {m.name for m in spec.machines.values() if spec.families[m.family].parent is None
            and spec.families[m.family].count == 1}


def _interference(system, family, timeout_ms):
    """(steps checked, [Interference]): every step outside the host's machines that writes
    slots of two instances of `family` or more, asked of z3: can it change two at once, from
    a state that keeps every invariant?"""
    enc = Z3Encoder(system.layout)
    solver = z3.Solver()
    solver.set("timeout", timeout_ms)
    solver.add(*enc.domain())
    solver.add(*[enc.term(t) for t in system.invariant_terms])
    owner = owner_of_slot(system, family)
    host_machines = _host_machines(system.spec)
    checked, found = 0, []
    for step in symbolic_steps(system, enc):
        if step.action.decl.machine in host_machines:
            continue
        by_owner: dict = {}
        for slot, term in step.post.items():
            if slot in owner:
                by_owner.setdefault(owner[slot], []).append(term != enc.vars[slot])
        if len(by_owner) < 2:
            continue
        checked += 1
        changed = {c: z3.Or(*conds) for c, conds in by_owner.items()}
        solver.push()
        solver.add(step.pre, z3.Sum([z3.If(x, 1, 0) for x in changed.values()]) >= 2)
        verdict = solver.check()
        if verdict == z3.sat:
            model = solver.model()
            both = sorted(c for c, x in changed.items() if z3.is_true(model.eval(x, model_completion=True)))
            found.append(Interference(step.text, step.rule.transition.id, "changes two instances",
                                      [system.layout.instances[family][c].label for c in both]))
        elif verdict != z3.unsat:
            found.append(Interference(step.text, step.rule.transition.id, "unknown"))
        solver.pop()
    return checked, found
