"""Bit-level facts (issue 4, item 3), from constants.yaml `bits:`.

The model keeps two things abstract: reset_enable is an enum (the all-f default or 0) and
a register access says only whether it hits a secured range. `bits:` gives their meaning
as 32-bit words, and z3 checks the model against it with bit-vectors:

- reset_bits: whenever a card runs a reset of kind k, bit k of the reset_enable word is
  set (RST-9, PARAM-4). An inductive fact over the transition relation, proven with the
  invariants (`induction.prove` takes it as an extra obligation).
- firewall: for every 32-bit BAR0 offset, an access is the model's read_register or
  write_register with `secured` = "the offset is in a secured range"; with the register
  file as a z3 array, no write changes a register in a secured range and every read of
  one gives 0xFFFFFFFF, while the card's firewall is on (FW-3). Plain registers can still
  be written (checked too, so the proof is not vacuous).
"""
from __future__ import annotations

from dataclasses import dataclass

import z3

from ..core.outcome import Action
from .relation import symbolic_steps

WORD = 32


@dataclass
class InductiveFact:
    name: str
    reqs: tuple
    term: object             # z3 BoolRef over the state constants of an encoder
    slots: set               # the slots it reads
    holds: object            # python predicate on a state tuple (for the bounded check)


def reset_bits_fact(spec, system, enc) -> InductiveFact | None:
    bits = (spec.bits or {}).get("reset_enable")
    if not bits or "reset" not in spec.machines:
        return None
    layout = system.layout
    fam, var = bits["variable"]
    enum = spec.vars[(fam, var)].type
    word_of = {enum.values.index(v): m for v, m in bits["masks"].items()}
    pf = spec.family_of("pf")
    if pf is None or (pf, "reset") not in spec.vars:
        return None
    reset_type = spec.vars[(pf, "reset")].type
    slot = layout.slot_of.get((fam, 0, var))
    frozen_value = layout.frozen.get((fam, 0, var))
    if slot is not None:
        x = enc.vars[slot]
        mask = z3.BitVecVal(0, WORD)
        for index, m in word_of.items():
            mask = z3.If(x == index, z3.BitVecVal(m, WORD), mask)
    else:
        mask = z3.BitVecVal(word_of[frozen_value], WORD)
    parts, slots, checks = [], set(), []
    for card in layout.instances[pf]:
        rslot = layout.slot_of.get((pf, card.index, "reset"))
        if rslot is None:
            continue                       # this configuration never resets: nothing to show
        slots.add(rslot)
        for kind, bit in bits["bits"].items():
            k = reset_type.values.index(kind)
            parts.append(z3.Implies(enc.vars[rslot] == k, z3.Extract(bit, bit, mask) == 1))
            checks.append((rslot, k, bit))
    if not parts:
        return None                        # no card of this configuration ever resets
    if slot is not None:
        slots.add(slot)

    def holds(state):
        word = word_of[state[slot]] if slot is not None else word_of[frozen_value]
        return all(state[r] != k or word >> bit & 1 for r, k, bit in checks)
    return InductiveFact("reset_kind_only_with_its_reset_enable_bit", ("RST-9", "PARAM-4"),
                         z3.And(*parts), slots, holds)


@dataclass
class FirewallProof:
    name: str
    reqs: tuple
    status: str                    # proven | refuted
    counterexample: dict | None = None

    def as_dict(self) -> dict:
        out = {"name": self.name, "reqs": list(self.reqs), "status": self.status}
        return out | ({"counterexample": self.counterexample} if self.counterexample else {})


def firewall_facts(spec, system, enc, hypotheses) -> list:
    """The FW-3 facts for every card of a configuration that offers register accesses on a
    product with secured ranges; [] when the configuration has none."""
    all_ranges = (spec.bits or {}).get("secured_ranges", {})
    config = system.config
    steps = {st.text: st for st in symbolic_steps(system, enc, {"read_register", "write_register"})}
    if not steps:
        return []
    addr, other = z3.BitVec("addr", WORD), z3.BitVec("other", WORD)
    value, regs = z3.BitVec("value", WORD), z3.Array("R", z3.BitVecSort(WORD), z3.BitVecSort(WORD))

    def within(a, ranges):
        return z3.Or(*[z3.And(z3.ULE(lo, a), z3.ULE(a, hi)) for lo, hi in ranges])

    layout = system.layout
    pf = spec.family_of("pf")
    if pf is None or (pf, "fw") not in spec.vars:
        return []
    fw_type = spec.vars[(pf, "fw")].type
    out = []
    for card in layout.instances[pf]:
        ranges = all_ranges.get(config.value_of("product", card.index))
        if not ranges or not config.value_of("has_firewall", card.index):
            continue                       # FW-2: only a card with the firewall has secured ranges

        def secured(a, ranges=ranges):
            return within(a, ranges)
        fw_slot = layout.slot_of.get((pf, card.index, "fw"))
        fw_on = (enc.vars[fw_slot] == fw_type.values.index("on")) if fw_slot is not None else \
            z3.BoolVal(layout.frozen.get((pf, card.index, "fw")) == fw_type.values.index("on"))
        label = card.label

        def access(name):
            param = spec.instance_param(name, pf)
            st = {s: steps.get(str(Action(name, ((param, label), ("secured", s))))) for s in ("true", "false")}
            return None if any(v is None for v in st.values()) else st

        writes, reads = access("write_register"), access("read_register")
        if writes is None or reads is None:
            continue

        def effect(st, var):
            """Did the step set `var` (from false)? The register was reached / the read blocked."""
            s = layout.slot_of.get((pf, card.index, var))
            if s is None or s not in st.post:
                return z3.BoolVal(False)
            return z3.substitute(st.post[s], (enc.vars[s], z3.BoolVal(False)))

        def written(st):
            return z3.And(st.pre, z3.Or(effect(st, "secured_reg_written"), effect(st, "plain_reg_written")))

        after = z3.If(secured(addr),
                      z3.If(written(writes["true"]), z3.Store(regs, addr, value), regs),
                      z3.If(written(writes["false"]), z3.Store(regs, addr, value), regs))
        read = z3.If(secured(addr),
                     z3.If(z3.And(reads["true"].pre, effect(reads["true"], "last_read_blocked")),
                           z3.BitVecVal(0xFFFFFFFF, WORD), regs[addr]),
                     z3.If(z3.And(reads["false"].pre, effect(reads["false"], "last_read_blocked")),
                           z3.BitVecVal(0xFFFFFFFF, WORD), regs[addr]))
        obligations = [
            (f"{label}: no write changes a secured register", ("FW-3",),
             z3.Implies(z3.And(fw_on, secured(other)), after[other] == regs[other]), False),
            (f"{label}: a secured register reads 0xFFFFFFFF", ("FW-3",),
             z3.Implies(z3.And(fw_on, secured(addr), reads["true"].pre), read == 0xFFFFFFFF), False),
            (f"{label}: a plain register can be written", ("FW-3",),
             z3.And(fw_on, z3.Not(secured(addr)), after[addr] == value, value != regs[addr]), True),
        ]
        for name, reqs, claim, witness in obligations:
            solver = z3.Solver()
            solver.add(*hypotheses)
            solver.add(claim if witness else z3.Not(claim))
            verdict = solver.check()
            if (verdict == z3.unsat) != witness:
                out.append(FirewallProof(name, reqs, "proven"))
            else:
                cx = None
                if verdict == z3.sat and not witness:
                    m = solver.model()
                    cx = {"address": f"0x{m.eval(addr, model_completion=True).as_long():08x}",
                          "other": f"0x{m.eval(other, model_completion=True).as_long():08x}",
                          "state": system.describe(tuple(_val(m, v) for v in enc.vars))}
                out.append(FirewallProof(name, reqs, "refuted" if verdict != z3.unknown else "unknown", cx))
    return out


def _val(model, var):
    v = model.eval(var, model_completion=True)
    return z3.is_true(v) if z3.is_bool(v) else v.as_long()
