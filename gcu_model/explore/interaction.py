"""How the cards of a host depend on each other, read off the ground rules (issue 8, item 2).

For every ground action of a configuration and every rule it may fire: the cards whose
slots (the card's own, or one of its VFs') the rule reads (its source state, `when`, the
action's checks, its guard, its effect's expressions) and the cards it writes. A rule that
reads or writes more than one card is an interaction point. On a host whose cards are
interchangeable, the compositional check (compose.py) requires every interaction point to
be a step of the module lifecycle: an action of the machines `lifecycle` names, which act
on the host as a whole (installing, loading, unloading the KMD, a reboot, a rescan).

This is exact over the ground terms (a slot a term mentions is a slot it may read), so a
rule it calls local never looks at another card in any state.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..core.ground import assigned_slots, slots_read


@dataclass(frozen=True)
class Touch:
    action: str            # the ground action's text
    transition: str        # the rule's transition id
    machine: str
    reads: frozenset       # card indexes
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


def card_of_slot(system) -> dict:
    """slot index -> the card it belongs to (a card's own slots and its VFs')."""
    layout = system.layout
    vfs = layout.instances.get("vf", [])
    out = {}
    for slot in layout.slots:
        if slot.family == "card":
            out[slot.index] = slot.instance
        elif slot.family == "vf":
            out[slot.index] = vfs[slot.instance].parent
    return out


def touches(system) -> list:
    """A Touch for every (ground action, rule) pair of the configuration."""
    cards = card_of_slot(system)
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
                             frozenset(cards[s] for s in reads if s in cards),
                             frozenset(cards[s] for s in writes if s in cards)))
    return out


def interaction_points(system) -> list:
    """The Touches that read or write more than one card."""
    return [t for t in touches(system) if len(t.reads | t.writes) > 1]
