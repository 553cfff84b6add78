"""The `reveals` criterion: a step whose effect no user sees at once is followed by steps
that make it show.

A suite compares what a user sees (files, /dev, lsmod, ps, outcomes). A step that changes
only what is hidden (the options file a later modprobe reads, a RAS fault's paused SP)
looks right even when a driver gets it wrong, unless something later shows the
difference. For every ground transition of the graph and each kind of change it makes
(which variables, from which value to which; the shallowest firing of each), each variable it
changes that no user sees after it is set back, one at a time, to its value before (the
write skipped) or, for an enum, to another of its values (a wrong stage: a T20 reset run
as a PF FLR, PROD-5); a
breadth-first search over pairs (the real state, the one without the hidden change) then
finds the shortest continuation after which the two differ in an outcome (accepted, or
the errno) or in what a user sees. The case built for the target takes the transition and
that continuation: a driver that skips the hidden change fails it.

What a user sees in a state is read from the reference host placed there (`place`), with
a fresh device model: the generator replays every case on the real reference host anyway,
so a continuation this search finds is a good guess, not a promise.
"""
from __future__ import annotations

from collections import deque

from ..explore.explorer import compiled_for
from ..reference import visible
from ..spec.types import EnumT
from ..reference.host import ReferenceHost
from ..reference.shell import Shell
from ..reference.sysfs import Sysfs
from .coverage import Go, Refuse, Witness

MAX_DEPTH = 3          # steps after the transition the search looks
MAX_PAIRS = 120        # pairs of states it expands per transition
MAX_CHANGES = 4        # kinds of change per ground transition it looks at
MAX_WRONG = 3          # other values of an enum a hidden write could leave instead


class Probe:
    """What a user sees in a state of the configuration's own system, cached by state."""

    def __init__(self, spec, system):
        self.host = ReferenceHost(spec, system.config.name, system=system)
        self.cache: dict = {}

    def seen(self, state: tuple) -> dict:
        hit = self.cache.get(state)
        if hit is None:
            self.host.place(state)
            fs = Sysfs(self.host)
            hit = self.cache[state] = visible.of_host(fs, Shell(self.host, fs))
        return hit


def reveal_targets(graph, spec) -> dict:
    """(label, change) -> Witness for every ground transition and each hidden change it
    makes somewhere (the first MAX_CHANGES kinds, each at its shallowest firing) that some
    short continuation shows. A change is ((slot, old value, new value), ...)."""
    system, ex = graph.system, graph.ex
    expand = compiled_for(system).expand
    node_of = {state: n for n, state in enumerate(ex.states)}
    probe = Probe(spec, system)
    errno_of = [r.errno for r in system.refusals]
    aid_of = [aid for aid, _ in system.labels]
    firings: dict = {}                         # label -> {change: (u, v)} in BFS order
    for u in range(len(ex.states)):
        before = ex.states[u]
        for label, v in graph.succ[u]:
            kinds = firings.setdefault(label, {})
            if len(kinds) >= MAX_CHANGES:
                continue
            after = ex.states[v]
            change = tuple((i, a, b) for i, (a, b) in enumerate(zip(before, after)) if a != b)
            kinds.setdefault(change, (u, v))
    out = {}
    for label in sorted(firings):
        for change, (u, v) in firings[label].items():
            before, after = ex.states[u], ex.states[v]
            hidden = _hidden(probe, before, after)
            if not hidden:
                continue
            for slot in hidden:                        # each hidden write left out, or wrong, on its own
                own = tuple(c for c in change if c[0] == slot)
                for wrong in _wrong_values(system.layout.slots[slot], before[slot], after[slot]):
                    key = (label, own) if wrong == before[slot] else (label, own, wrong)
                    if key in out:
                        continue
                    shadow = tuple(wrong if i == slot else x for i, x in enumerate(after))
                    steps = _continuation(after, shadow, expand, probe, errno_of, aid_of)
                    walk = _walk(graph, node_of, u, label, v, steps) if steps is not None else None
                    if walk is not None:
                        out[key] = walk
    return out


def _wrong_values(slot, old, new) -> list:
    """What a driver could leave in a hidden slot instead of `new`: the old value (the write
    skipped) and, for an enum, up to MAX_WRONG other values (a wrong stage, a wrong mode)."""
    out = [old]
    if isinstance(slot.type, EnumT):
        out += [i for i in range(len(slot.type.values)) if i not in (old, new)][:MAX_WRONG]
    return out


def _walk(graph, node_of, u, label, v, steps):
    """The witness: the path to u, the transition, the continuation (None when the
    continuation leaves the graph)."""
    tail = []
    for step in steps:
        if step[0] == "go":
            node = node_of.get(step[2])
            if node is None:
                return None
            tail.append(Go(step[1], node))
        else:
            tail.append(Refuse(step[1], step[2]))
    walk = graph.extend(graph.path_to(u), Go(label, v))
    return Witness(walk.start, walk.steps + tuple(tail))


def _hidden(probe, before, after) -> list:
    """The slots a transition changed whose change alone shows in nothing a user sees."""
    seen = probe.seen(after)
    out = []
    for slot, (a, b) in enumerate(zip(before, after)):
        if a != b:
            back = tuple(a if i == slot else x for i, x in enumerate(after))
            if probe.seen(back) == seen:
                out.append(slot)
    return out


def _continuation(real, shadow, expand, probe, errno_of, aid_of):
    """The shortest list of steps [("go", label, next real state) | ("refuse", action id,
    refusal id)] after which `real` and `shadow` differ for a user, or None."""
    queue = deque([(real, shadow, ())])
    seen_pairs = {(real, shadow)}
    expanded = 0
    while queue and expanded < MAX_PAIRS:
        s1, s2, path = queue.popleft()
        expanded += 1
        if len(path) >= MAX_DEPTH:
            continue
        a1, a2 = _outcomes(expand, s1, errno_of, aid_of), _outcomes(expand, s2, errno_of, aid_of)
        for aid in sorted(set(a1) | set(a2)):
            o1, o2 = a1.get(aid), a2.get(aid)
            if o1 is None or o2 is None:
                continue                                 # beyond an exploration bound on one side
            if o1[:2] != o2[:2]:                         # accepted on one side only, or another errno
                step = ("go", o1[3], o1[2]) if o1[0] == "go" else ("refuse", aid, o1[3])
                return list(path) + [step]
            if o1[0] != "go":
                continue
            n1, n2 = o1[2], o2[2]
            if probe.seen(n1) != probe.seen(n2):
                return list(path) + [("go", o1[3], n1)]
            if n1 != n2 and (n1, n2) not in seen_pairs:
                seen_pairs.add((n1, n2))
                queue.append((n1, n2, path + (("go", o1[3], n1),)))
    return None


def _outcomes(expand, state, errno_of, aid_of) -> dict:
    """action id -> ("go", None, next state, label) or ("refuse", errno, None, refusal id)."""
    succ, refused, _ = expand(state)
    out = {}
    for label, nxt in succ:
        out.setdefault(aid_of[label], ("go", None, nxt, label))
    for aid, rid in refused:
        out.setdefault(aid, ("refuse", errno_of[rid], None, rid))
    return out
