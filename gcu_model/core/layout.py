"""Where each variable of each instance lives in a state tuple, for one configuration.

A state is a flat tuple of small values: bools, ints, enum indexes and set bit masks,
one slot per (instance, variable), in a fixed order. Equal states are equal tuples, so
they hash equal and the graph has one node per state (design.md, Semantics).
"""
from __future__ import annotations

from dataclasses import dataclass

from ..spec.errors import InvalidSpec
from ..spec.model import Config, PerInstance, Spec
from ..spec.types import BoolT, EnumT, IntT, RefT, SetT


@dataclass(frozen=True)
class Instance:
    family: str
    index: int         # global index within the family
    label: str         # host, card0, card0.vf1, vm0
    parent: int | None  # index in the parent family


@dataclass(frozen=True)
class Slot:
    index: int
    family: str
    instance: int
    var: str
    type: object
    lo: int | None     # bounds of int slots, resolved for the configuration
    hi: int | None
    label: str         # card0.vf1.binding


class Layout:
    def __init__(self, spec: Spec, config: Config, frozen: dict | None = None, unbounded_counters: bool = False):
        self.spec = spec
        self.config = config
        # proofs: a counter whose upper bound is an exploration bound (max_opens) has none
        self.unbounded_counters = unbounded_counters
        # (family, instance, var) -> encoded value: variables no step of this configuration
        # changes; they live outside the state tuple, as constants (System._freeze)
        self.frozen = dict(frozen or {})
        self.instances: dict[str, list[Instance]] = {}
        for fname in _family_order(spec):
            self.instances[fname] = self._instances_of(fname)
        self.slots: list[Slot] = []
        self.slot_of: dict[tuple, int] = {}
        for fname, insts in self.instances.items():
            fvars = spec.family_vars(fname)
            fvars.sort(key=lambda v: (not v.is_control,))   # control states first, then declaration order
            for inst in insts:
                for var in fvars:
                    if (fname, inst.index, var.name) in self.frozen:
                        continue
                    lo = hi = None
                    if isinstance(var.type, IntT):
                        lo = self.int_value(var.type.lo, var.where, fname, inst.index)
                        hi = self.int_value(var.type.hi, var.where, fname, inst.index)
                        if unbounded_counters and self.is_exploration_bound(var.type.hi):
                            hi = None
                    slot = Slot(len(self.slots), fname, inst.index, var.name, var.type, lo, hi,
                                f"{inst.label}.{var.name}")
                    self.slot_of[(fname, inst.index, var.name)] = slot.index
                    self.slots.append(slot)
        self.labels = {inst.label: inst for insts in self.instances.values() for inst in insts}

    def is_exploration_bound(self, bound) -> bool:
        c = self.spec.constants.get(bound) if isinstance(bound, str) else None
        return c is not None and c.exploration_bound

    def int_value(self, v, where, family=None, index=None):
        """An int bound or count: a literal or a constant. A per-card constant is that of the
        instance's own card (its parent's, for a VF), or the largest where none is named."""
        if isinstance(v, str):
            value = self.config.values[v]
            if isinstance(value, PerInstance):
                own = self.owner_of(family, index, self.spec.constants[v].per)
                return value[own] if own is not None else max(value, default=0)
            return value
        if v is None:
            raise where.error("int without bounds")
        return v

    def owner_of(self, family, index, per):
        """The instance of family `per` that instance `index` of `family` is, or belongs to."""
        while family is not None and index is not None:
            if family == per:
                return index
            inst = self.instances[family][index]
            family, index = self.spec.families[family].parent, inst.parent
        return None

    def facts_of(self, family, index) -> dict:
        """The per-card (per-instance) constants of instance `index`: its own card's values
        (a VF's: its card's); {} for an instance that belongs to no card."""
        out = {}
        for name, value in self.config.values.items():
            if isinstance(value, PerInstance):
                own = self.owner_of(family, index, self.spec.constants[name].per)
                if own is not None:
                    out[name] = value[own]
        return out

    def count(self, fname) -> int:
        fam = self.spec.families[fname]
        c = fam.count
        if isinstance(c, str):
            # a per-parent count (vf: vf_slots) gives every parent the largest: a card's slots past
            # its own count never exist, as its numvfs is bounded by its own value
            c = self.int_value(c, fam.where)
        if not isinstance(c, int) or c < 0:
            raise InvalidSpec(f"config {self.config.name}: family '{fname}' count {c!r} is not a non-negative int",
                              self.config.where.file, self.config.where.line, fname)
        return c

    def _instances_of(self, fname):
        fam = self.spec.families[fname]
        n = self.count(fname)
        if fam.parent is None:
            if n == 1 and fam.role == "host":        # the one host is named by its family alone
                return [Instance(fname, 0, fname, None)]
            return [Instance(fname, i, f"{fname}{i}", None) for i in range(n)]
        out = []
        for p in self.instances[fam.parent]:
            for j in range(n):
                out.append(Instance(fname, len(out), f"{p.label}.{fname}{j}", p.index))
        return out

    # ---- value encoding
    @staticmethod
    def encode(value, t):
        if isinstance(t, RefT):
            return -1 if value is None else value
        if isinstance(t, EnumT):
            return t.values.index(value)
        if isinstance(t, SetT):
            if isinstance(t.elem, EnumT):
                mask = 0
                for v in value:
                    mask |= 1 << t.elem.values.index(v)
                return mask
            return frozenset(value)
        return value

    def decode(self, value, t):
        if isinstance(t, RefT):
            return None if value < 0 else self.instances[t.family][value].label
        if isinstance(t, EnumT):
            return t.values[value]
        if isinstance(t, SetT) and isinstance(t.elem, EnumT):
            return sorted(t.elem.values[i] for i in range(len(t.elem.values)) if value >> i & 1)
        if isinstance(t, BoolT):
            return bool(value)
        return value

    def describe(self, state) -> dict:
        """A state as {variable label: readable value}, frozen variables included."""
        decoders = self.__dict__.get("_decoders")
        if decoders is None:
            decoders = self._decoders = [(slot.label, self._decoder(slot.type)) for slot in self.slots]
            fixed = {}
            for (fname, index, var), value in self.frozen.items():
                inst = self.instances[fname][index]
                fixed[f"{inst.label}.{var}"] = self.decode(value, self.spec.vars[(fname, var)].type)
            self._frozen_view = fixed
        out = {label: dec(v) for (label, dec), v in zip(decoders, state)}
        out.update(self._frozen_view)
        return out

    def _decoder(self, t):
        """decode(value, t) for one type, with the type tests done once (describe is hot)."""
        if isinstance(t, RefT):
            labels = [i.label for i in self.instances[t.family]]
            return lambda v: None if v < 0 else labels[v]
        if isinstance(t, EnumT):
            return t.values.__getitem__
        if isinstance(t, SetT) and isinstance(t.elem, EnumT):
            return lambda v, t=t: self.decode(v, t)
        if isinstance(t, BoolT):
            return bool
        return lambda v: v

    def initial_states(self):
        """Every combination of the variables' initial values (issue 2, item 6)."""
        import itertools
        choices = []
        for slot in self.slots:
            var = self.spec.vars[(slot.family, slot.var)]
            values = self.config.initial.get(slot.label, self.config.initial.get((slot.family, slot.var), var.init))
            choices.append([self.encode(v, slot.type) for v in values])
        return [tuple(c) for c in itertools.product(*choices)]


def _family_order(spec):
    order, seen = [], set()

    def visit(name):
        if name in seen:
            return
        parent = spec.families[name].parent
        if parent:
            visit(parent)
        seen.add(name)
        order.append(name)

    for name in spec.families:
        visit(name)
    return order
