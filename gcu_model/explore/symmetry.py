"""Symmetry reduction (issue 8, item 1): interchangeable instances, one state per orbit.

Cards of one configuration share product and mode, VMs and containers are alike, and the
VFs of a card that exist (the first `numvfs` slots) are alike: renaming them maps every
run of the model onto another run. `specs/families.yaml` says which families are
interchangeable (`symmetric: true`, or the parent variable that bounds the
interchangeable prefix, `symmetric: numvfs`), and `validate` checks the spec keeps that
promise: no rule reads the index of such an instance (a prefix family's index only as
`v.index < E`, which creates or counts the prefix), and a property that reads one says
it does not depend on names (`symmetric: true`), which the tests check by exploring small
hosts both ways.

`Canonicalizer.canon(state)` sorts the instances' blocks of slots and renames every
reference (a `ref[card]` slot, say) to match, so the explorer keeps one representative of
each orbit. Blocks that tie are told apart by who refers to them (a VM holding one of two
alike VFs, say). Sorting is cheap and always lands in the orbit (sound); were two members
of an orbit to land on different representatives, the reduction would only be weaker,
never wrong. On the small hosts the tests compare, it finds exactly the orbits.
`canon_perm` also returns the renaming, which maps a path found among representatives
back to concrete names (`Follower`, `concretize`).
"""
from __future__ import annotations

from dataclasses import dataclass, fields, is_dataclass

from ..spec import expr as E
from ..spec.errors import InvalidSpec
from ..spec.types import IntT, RefT
from ..spec.ruleref import RuleRef


# ------------------------------------------------------------ what the spec promises
@dataclass(frozen=True)
class IndexRead:
    family: str
    owner: str            # "transition pf.write_sriov_numvfs#2", "invariant x", "action y: check 1"
    where: object
    as_prefix: bool       # read as `x.index < E`
    is_rule: bool         # steers transitions (else a property)


def index_reads(spec) -> list:
    """Every place the spec reads an instance's index, directly or through a quantity."""
    out = []

    def scan(node, owner, where, is_rule):
        for family, as_prefix in _reads(node, False):
            out.append(IndexRead(family, owner, where, as_prefix, is_rule))

    for t in spec.transitions:
        scan(t.when, f"transition {t.id}", t.where, True)
        for k, c in enumerate(t.checks, 1):
            scan(c.expr, f"transition {RuleRef.guard(t.id, k)}", c.where, True)
        scan(t.effect, f"transition {t.id} effect", t.where, True)
    for a in spec.actions.values():
        for k, c in enumerate(a.checks, 1):
            scan(c.expr, f"action {RuleRef.check(a.name, k)}", c.where, True)
        if not isinstance(a.target, str):
            scan(a.target, f"action {a.name} target", a.where, True)
    for p in spec.properties:
        scan(p.expr, f"{p.kind} {p.name}", p.where, False)
    return out


def _reads(node, as_prefix):
    """(family, as_prefix) for each IndexOf under node."""
    if isinstance(node, (tuple, list)):
        for item in node:
            yield from _reads(item, False)
        return
    if not is_dataclass(node) or isinstance(node, type):
        return
    if isinstance(node, E.IndexOf):
        yield node.inst.type.family, as_prefix
        yield from _reads(node.inst, False)
        return
    if isinstance(node, E.Compare) and node.op == "<" and isinstance(node.left, E.IndexOf):
        yield from _reads(node.left, True)
        yield from _reads(node.right, False)
        return
    for f in fields(node):
        if f.name != "type":
            yield from _reads(getattr(node, f.name), False)


def validate(spec) -> None:
    """InvalidSpec where a rule or property breaks a family's `symmetric:` promise."""
    for fam in spec.families.values():
        if isinstance(fam.symmetric, str):
            var = spec.vars.get((fam.parent, fam.symmetric))
            if var is None or not isinstance(var.type, IntT):
                raise fam.where.error(f"family {fam.name}: symmetric: {fam.symmetric} is not an int variable "
                                      f"of {fam.parent}", fam.symmetric)
    symmetric_props = {p.name for p in spec.properties if p.symmetric}
    for read in index_reads(spec):
        fam = spec.families[read.family]
        if not fam.symmetric:
            continue
        if read.is_rule and (fam.symmetric is True or not read.as_prefix):
            how = "any read" if fam.symmetric is True else "a read other than `x.index < E`"
            raise read.where.error(f"{read.owner} reads a {read.family}'s index, but families.yaml declares "
                                   f"{read.family} symmetric ({how} tells instances apart)", read.family)
        if not read.is_rule and not (read.as_prefix and fam.symmetric is not True) \
                and read.owner.split(" ", 1)[1] not in symmetric_props:
            raise read.where.error(f"{read.owner} reads a {read.family}'s index, and {read.family} is symmetric: "
                                   f"say `symmetric: true` if its verdict does not depend on names", read.family)


# ------------------------------------------------------------ canonical states
class Canonicalizer:
    """Canonical representatives of one System's states (see the module doc)."""

    def __init__(self, system):
        self.system = system
        layout, spec = system.layout, system.spec
        self.notes: list = []
        blocks: dict = {}                      # family -> {instance: (start, end)}
        for slot in layout.slots:
            rng = blocks.setdefault(slot.family, {}).setdefault(slot.instance, [slot.index, slot.index + 1])
            rng[1] = slot.index + 1
        self.count = {f: len(insts) for f, insts in layout.instances.items()}
        self.span = {f: [tuple(blocks.get(f, {}).get(i, (0, 0))) for i in range(n)] for f, n in self.count.items()}
        self.tops, self.children = [], []      # reduced families: top-level, and children of a parent
        for f, fam in spec.families.items():
            if not fam.symmetric or not self.count.get(f):
                continue
            if self._pinned(f):
                self.notes.append(f"{f}: a fixed reference names one of them; not reduced")
                continue
            if fam.parent is not None:
                # children are renamed among one parent's only: they need be alike there alone
                if not self._siblings_alike(f):
                    self.notes.append(f"{f}: instances differ in their fixed values; not reduced")
                elif layout.count(f) > 1:
                    self.children.append(f)
            elif fam.symmetric is True and self.count[f] > 1:
                self.tops.append(f)
        # a top family is renamed within each class of alike instances (cards of one product,
        # issue 8); its children move with it, so they must be alike across that class too
        self.kids, self.groups = {}, {}
        for f in list(self.tops):
            kids = [c for c, fam in spec.families.items() if fam.parent == f and self.count.get(c)]
            if any(self._pinned(c) for c in kids):
                self.notes.append(f"{f}: a fixed reference names one of its children; not reduced")
                self.tops.remove(f)
                continue
            groups = [g for g in self._classes(f) if len(g) > 1 and all(self._kids_alike(c, set(g)) for c in kids)]
            if not groups:
                self.notes.append(f"{f}: instances differ in their fixed values; not reduced")
                self.tops.remove(f)
                continue
            if len(groups) > 1 or len(groups[0]) < self.count[f]:
                self.notes.append(f"{f}: renamed within the classes {[[layout.instances[f][i].label for i in g] for g in groups]}")
            self.kids[f], self.groups[f] = kids, groups
        self.per = {f: layout.count(f) for f in self.children + [c for ks in self.kids.values() for c in ks]}
        self.parent = {f: spec.families[f].parent for f in self.per}
        self.prefix = {}                      # child family -> per parent: slot index or fixed count
        for f in self.children:
            var, parent = spec.families[f].symmetric, self.parent[f]
            bounds = []
            for p in range(self.count[parent]):
                if var is True:
                    bounds.append(("fixed", self.per[f]))
                elif (parent, p, var) in layout.frozen:
                    bounds.append(("fixed", layout.frozen[(parent, p, var)]))
                else:
                    bounds.append(("slot", layout.slot_of[(parent, p, var)]))
            self.prefix[f] = bounds
        self.refs = [(slot.index, slot.type.family) for slot in layout.slots if isinstance(slot.type, RefT)]
        self.reduced = tuple(self.tops + self.children)
        self.moved = tuple(dict.fromkeys(self.tops + self.children + [c for ks in self.kids.values() for c in ks]))
        # how a reference slot is named in a tie-breaking key (_signature): its variable (or,
        # outside the reduced families, its slot), and the block of the instance it is in,
        # with the references masked (their numbers are names the sort may change)
        self._referrer = {j: (("var", layout.slots[j].family, layout.slots[j].var)
                              if layout.slots[j].family in self.reduced else ("slot", str(j)))
                          for j, _ in self.refs}
        ref_slots = {j for j, _ in self.refs}
        self._block_of = {}
        for j, _ in self.refs:
            slot = layout.slots[j]
            a, b = self.span[slot.family][slot.instance]
            self._block_of[j] = (a, b, tuple(k - a for k in range(a, b) if k in ref_slots))

    def _shape(self, inst) -> tuple:
        """What two instances must share to be interchangeable: their variables in the state
        with the same bounds and initial values (a configuration may narrow one instance's:
        card1.fw), the same fixed values, and their own card's per-card constants (a host
        may mix products, issue 8)."""
        layout = self.system.layout
        initial = layout.config.initial
        in_state = tuple((s.var, s.lo, s.hi, tuple(initial.get(s.label, ())))
                         for s in layout.slots if s.family == inst.family and s.instance == inst.index)
        fixed = tuple(sorted((var, v) for (f, i, var), v in layout.frozen.items()
                             if f == inst.family and i == inst.index))
        return in_state, fixed, tuple(layout.facts_of(inst.family, inst.index).items())

    def _classes(self, family) -> list:
        """The instances of a top-level family, in classes of alike ones."""
        classes: dict = {}
        for inst in self.system.layout.instances[family]:
            classes.setdefault(self._shape(inst), []).append(inst.index)
        return list(classes.values())

    def _siblings_alike(self, family) -> bool:
        """The children of each parent are alike among themselves."""
        shapes: dict = {}
        for inst in self.system.layout.instances[family]:
            shapes.setdefault(inst.parent, set()).add(self._shape(inst))
        return all(len(v) == 1 for v in shapes.values())

    def _kids_alike(self, child, parents) -> bool:
        """Renaming these parents carries each one's children along, position by position:
        the children at one position must be alike across the parents."""
        per = max(1, self.system.layout.count(child))
        shapes: dict = {}
        for inst in self.system.layout.instances[child]:
            if inst.parent in parents:
                shapes.setdefault(inst.index % per, set()).add(self._shape(inst))
        return all(len(v) == 1 for v in shapes.values())

    def _pinned(self, family) -> bool:
        """A variable no step changes (folded out of the state) refers to one instance of
        the family: renaming would move what it points at."""
        spec = self.system.spec
        for (f, _, var), value in self.system.layout.frozen.items():
            t = spec.vars[(f, var)].type
            if isinstance(t, RefT) and value >= 0 and (t.family == family or spec.families[t.family].parent == family):
                return True
        return False

    @property
    def active(self) -> bool:
        return bool(self.reduced)

    # ---- the representative and the renaming that leads to it
    def canon(self, state: tuple) -> tuple:
        return self.canon_perm(state)[0]

    def canon_perm(self, s: tuple):
        """(representative, perms): perms[family][old global index] = new global index."""
        perms = {f: list(range(n)) for f, n in self.count.items()}
        # 1. children within each parent: the prefix sorted by its blocks' values
        for f in self.children:
            per, spans, bounds = self.per[f], self.span[f], self.prefix[f]
            perm = perms[f]
            for p in range(self.count[self.parent[f]]):
                kind, b = bounds[p]
                n = min(per, b if kind == "fixed" else s[b])
                if n < 2:
                    continue
                base = p * per
                order = sorted(range(n), key=lambda k: (s[spans[base + k][0]:spans[base + k][1]],
                                                        self._pointed(s, f, base + k)))
                for new, old in enumerate(order):
                    perm[base + old] = base + new
        # 2. top families: key = own block with child refs renamed, its children's blocks in
        # their new order, and who refers to it
        for f in self.tops:
            spans = self.span[f]
            kids = self.kids[f]
            keys = []
            for i in range(self.count[f]):
                a, b = spans[i]
                own = list(s[a:b])
                for j, fam in self.refs:
                    if a <= j < b and own[j - a] >= 0:
                        own[j - a] = perms[fam][own[j - a]]     # kids, and families sorted before
                sub = []
                for c in kids:
                    per, cspans, cperm = self.per[c], self.span[c], perms[c]
                    ordered = sorted(range(i * per, (i + 1) * per), key=cperm.__getitem__)
                    sub.append(tuple(s[cspans[g][0]:cspans[g][1]] for g in ordered))
                keys.append((own, sub, self._signature(s, f, i, kids, perms)))
            perm = perms[f]
            for group in self.groups[f]:           # sorted within each class of alike instances
                for new, old in zip(group, sorted(group, key=keys.__getitem__)):
                    perm[old] = new
            for c in kids:                        # children follow their parent
                per, cperm = self.per[c], perms[c]
                moved = list(cperm)
                for g, new_g in enumerate(cperm):
                    p, k = divmod(new_g, per)
                    moved[g] = perm[p] * per + k
                perms[c] = moved
        return self._apply(s, perms), perms

    def _signature(self, s, family, i, kids, perms):
        """The references to instance i of `family` (or to its children): ties broken by who
        points at it, each referrer told by its variable and its own masked block."""
        out = []
        for j, fam in self.refs:
            v = s[j]
            if v < 0:
                continue
            if fam == family and v == i:
                out.append(self._referrer[j] + (self._masked(s, j), 0))
            elif fam in kids and v // self.per[fam] == i:
                out.append(self._referrer[j] + (self._masked(s, j), perms[fam][v] % self.per[fam] + 1))
        out.sort()
        return out

    def _pointed(self, s, family, g):
        """Who refers to instance g of a child family: ties among alike children broken."""
        return sorted(self._referrer[j] + (self._masked(s, j),) for j, fam in self.refs
                      if fam == family and s[j] == g)

    def _masked(self, s, j) -> tuple:
        a, b, refs = self._block_of[j]
        block = list(s[a:b])
        for k in refs:
            block[k] = -2
        return tuple(block)

    def _apply(self, s, perms) -> tuple:
        out = list(s)
        for f in self.moved:
            spans, perm = self.span[f], perms[f]
            for old, new in enumerate(perm):
                if old != new:
                    a, b = spans[old]
                    c, d = spans[new]
                    out[c:d] = s[a:b]
        for j, fam in self.refs:
            v = out[j]
            if v >= 0 and fam in perms:
                out[j] = perms[fam][v]
        return tuple(out)

    # ---- names
    def rename_action(self, action_id: int, perms, inverse: bool = False) -> int:
        """The ground action that is `action_id` with its instance parameters renamed."""
        system = self.system
        ga = system.actions[action_id]
        layout = system.layout
        params = []
        for name, value in ga.action.params:
            param = next((p for p in ga.decl.params if p.name == name), None)
            if param is not None and isinstance(param.type, str) and value in layout.labels:
                inst = layout.labels[value]
                perm = perms.get(inst.family)
                if perm is not None:
                    index = perm.index(inst.index) if inverse else perm[inst.index]
                    value = layout.instances[inst.family][index].label
            params.append(f"{name}={value}")
        text = f"{ga.action.name}({', '.join(params)})"
        if text not in system.by_text:        # a renaming maps the offered actions onto themselves
            raise InvalidSpec(f"symmetry: renaming {ga.action} gives {text}, which this configuration does not "
                              f"offer; the spec is not symmetric in {self.reduced}")
        return system.by_text[text].id


def run_to(system, state: tuple, actions) -> tuple:
    """The state after applying accepted actions from `state`."""
    for action in actions:
        state = system.step(state, system.action(str(action))).state
    return state


class Follower:
    """Follows a walk among representatives with concrete names (concrete_path, and suites
    generated from the reduced graph). `sigma` renames the run's own state into the
    representative it stands at: sigma(concrete) == representative. A step `a` taken at the
    representative is sigma^-1(a) in the run; the successor t of the representative is
    sorted into the next representative by some rho, and sigma becomes rho after sigma.
    (Sorting the run's own state afresh could pick another member of the orbit when
    blocks tie, and the next step's names would then be wrong.)"""

    def __init__(self, canonicalizer):
        self.canon = canonicalizer
        self.sigma = {f: list(range(n)) for f, n in canonicalizer.count.items()}

    def concrete(self, action_id: int) -> int:
        return self.canon.rename_action(action_id, self.sigma, inverse=True)

    def advance(self, representative: tuple, action_id: int, next_representative: tuple) -> None:
        system = self.canon.system
        t = system.step(representative, system.actions[action_id]).state
        if t == next_representative:
            return
        rep, rho = self.canon.canon_perm(t)
        if rep != next_representative:
            raise InvalidSpec("symmetry: a representative's successor sorts to another representative "
                              f"than the explorer's; the spec is not symmetric in {self.canon.reduced}")
        self.sigma = {f: [rho[f][self.sigma[f][x]] for x in range(n)] for f, n in self.canon.count.items()}


def concretize(system, canonicalizer, representatives: list, labels: list) -> list:
    """Ground-action ids that follow, from the initial state representatives[0] (an
    initial state is its own representative's run), the path of `labels` through the
    states `representatives` (one more than labels)."""
    follow = Follower(canonicalizer)
    out = []
    for k, label in enumerate(labels):
        aid = system.labels[label][0]
        out.append(follow.concrete(aid))
        follow.advance(representatives[k], aid, representatives[k + 1])
    return out
