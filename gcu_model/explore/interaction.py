"""Where the instances of one family (the cards of a host) meet, read off the ground
rules (issue 8, item 2).

For every ground action of a configuration and every rule it may fire: the instances of
the family whose slots (their own, or their children's: a card's VFs) the rule mentions
in its source state, `when`, the action's checks, its guard or its effect's expressions,
and those it writes. A rule that mentions more than one is an interaction point. This
over-approximates: a slot a term mentions is a slot it may read, so a rule it calls local
never looks at another instance in any state, while one it lists may only do so through
a reference (a container's card) or a loop whose other rounds change nothing. The
compositional check (compose.py) lists these and proves with z3 which ones write two.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..core.ground import assigned_slots, slots_read


@dataclass(frozen=True)
class Touch:
    action: str            # the ground action's text
    transition: str        # the rule's transition id
    machine: str
    reads: frozenset       # instance indexes of the family
    writes: frozenset


def _stmt_reads(stmts, acc):
    for st in stmts:
        if st[0] == "set":
            slots_read(st[2], acc)
        else:
            slots_read(st[1], acc)
            _stmt_reads(st[2], acc)
            _stmt_reads(st[3], acc)
    return acc


def owner_of_slot(system, family: str) -> dict:
    """slot index -> the instance of `family` it belongs to: its own slots and those of its
    children (a card's and its VFs')."""
    layout, spec = system.layout, system.spec
    out = {}
    for slot in layout.slots:
        fam, index = slot.family, slot.instance
        while fam != family and spec.families[fam].parent is not None:
            index, fam = layout.instances[fam][index].parent, spec.families[fam].parent
        if fam == family:
            out[slot.index] = index
    return out


def touches(system, family: str) -> list:
    """A Touch for every (ground action, rule) pair of the configuration."""
    owner = owner_of_slot(system, family)
    out = []
    for ga in system.actions:
        base = {ga.control}
        for t, _ in ga.checks:
            slots_read(t, base)
        for rule in ga.rules:
            reads = set(base)
            slots_read(rule.when, reads)
            for t, _ in rule.checks:
                slots_read(t, reads)
            _stmt_reads(rule.effect, reads)
            writes = assigned_slots(rule.effect) | ({ga.control} if rule.dest is not None else set())
            out.append(Touch(str(ga.action), rule.transition.id, ga.decl.machine,
                             frozenset(owner[s] for s in reads if s in owner),
                             frozenset(owner[s] for s in writes if s in owner)))
    return out


def interaction_points(system, family: str) -> list:
    """The Touches that mention more than one instance of the family."""
    return [t for t in touches(system, family) if len(t.reads | t.writes) > 1]
