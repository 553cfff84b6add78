"""Breadth-first exploration of one configuration into a networkx graph (issue 2, item 6).

Nodes are integers (the index of a state in `states`), states are small tuples, edges
carry the label ids of the (action, transition) pairs that lead along them. Every
invariant is checked in every state; a violation keeps the shortest path from an
initial state, which BFS finds first. Refusals are recorded per state as interned
tuples of (action id, refusal id): many states share one refusal pattern.
"""
from __future__ import annotations

import gc
import time
from dataclasses import dataclass, field

import networkx as nx

from ..core.codegen import Compiled
from ..core.outcome import Action
from ..spec.ruleref import GUARD


@dataclass
class Violation:
    invariant: str
    reqs: tuple
    state: int
    path: list          # [Action, ...] from an initial state
    initial: int        # the initial state the path starts from


@dataclass
class Exploration:
    system: object
    states: list
    initial: list                 # node ids of the initial states
    parent: list                  # node -> (predecessor, label) or None
    graph: object                 # nx.DiGraph or None
    refusals: list                # node -> tuple((action id, refusal id), ...)
    transitions: int              # labelled transitions (edges counted per action)
    violations: list
    goals: dict                   # goal name -> node id or None
    fired: set                    # label ids that fired
    bound_hits: int
    deadlocks: list               # nodes with no way out
    seconds: float
    truncated: bool = False
    slot_values: dict = field(default_factory=dict)
    symmetry: object = None       # the Canonicalizer when states are orbit representatives

    # ---- reading results
    @property
    def config(self):
        return self.system.config.name

    def path_to(self, node: int) -> list:
        """The actions of the shortest path (in BFS order) from an initial state to `node`."""
        out = []
        while self.parent[node] is not None:
            pred, label = self.parent[node]
            out.append(self.system.actions[self.system.labels[label][0]].action)
            node = pred
        out.reverse()
        return out

    def concrete_state(self, node: int) -> tuple:
        """The state a run of concrete_path(node) from the root ends in: the node's own state
        without reduction, else the member of its orbit that the run reaches."""
        if self.symmetry is None:
            return self.states[node]
        from .symmetry import run_to
        return run_to(self.system, self.states[self.root_of(node)], self.concrete_path(node))

    def concrete_path(self, node: int) -> list:
        """path_to(node) with the instances named as they are in a run from the root: under
        symmetry reduction each step was taken in a representative state, so its names are
        mapped back (symmetry.concretize); without reduction the same list as path_to."""
        if self.symmetry is None:
            return self.path_to(node)
        from .symmetry import concretize
        labels, nodes = [], [node]
        n = node
        while self.parent[n] is not None:
            n, label = self.parent[n]
            labels.append(label)
            nodes.append(n)
        ids = concretize(self.system, self.symmetry, [self.states[m] for m in nodes[::-1]], labels[::-1])
        return [self.system.actions[a].action for a in ids]

    def root_of(self, node: int) -> int:
        while self.parent[node] is not None:
            node = self.parent[node][0]
        return node

    def refused(self, node: int) -> list:
        """[(Action, errno, message)] refused in state `node`."""
        sysm = self.system
        out = []
        for aid, rid in self.refusals[node]:
            ga = sysm.actions[aid]
            r = sysm.refusals[rid]
            out.append((ga.action, r.errno, r.text(ga.states[self.states[node][ga.control]])))
        return out

    def refusal_count(self) -> int:
        return sum(len(r) for r in self.refusals)

    def refusal_kinds(self) -> set:
        """Distinct (action name, errno) pairs refused anywhere."""
        sysm = self.system
        kinds = set()
        for pattern in set(self.refusals):
            for aid, rid in pattern:
                kinds.add((sysm.actions[aid].action.name, sysm.refusals[rid].errno))
        return kinds

    def never_fired(self) -> list:
        """Ids of the spec's transitions that no explored state ever selected: neither
        accepted, nor refused by one of the transition's own guard checks."""
        sysm = self.system
        used = {sysm.labels[label][1] for label in self.fired}
        for pattern in set(self.refusals):
            for _, rid in pattern:
                ref = sysm.refusals[rid].ref
                if ref.kind == GUARD:
                    used.add(ref.owner)
        offered = {ga.action.name for ga in sysm.actions}
        return [t.id for t in sysm.spec.transitions if t.id not in used and t.trigger in offered]

    def unreached_states(self) -> list:
        """'machine.state' names that no explored state had on any instance."""
        sysm = self.system
        offered = {ga.decl.machine for ga in sysm.actions}
        out = []
        for m in sysm.spec.machines.values():
            slots = [s.index for s in sysm.layout.slots if s.family == m.family and s.var == m.control]
            if not slots or m.name not in offered:
                continue            # no instance, or the configuration offers none of its actions
            seen = set()
            for slot in slots:
                seen |= self.slot_values.get(slot, set())
            out.extend(f"{m.name}.{st}" for k, st in enumerate(m.states) if k not in seen)
        return out


def explore(system, graph: bool = True, max_states: int | None = None, compiled: Compiled | None = None,
            progress=None, symmetry=None) -> Exploration:
    """Explore every state reachable from the configuration's initial states; with a
    symmetry.Canonicalizer, one representative per orbit (issue 8)."""
    # The search allocates millions of small containers and creates no cycles; the
    # cyclic garbage collector would only rescan them over and over.
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        return _explore(system, graph, max_states, compiled, progress, symmetry)
    finally:
        if was_enabled:
            gc.enable()


def _explore(system, graph, max_states, compiled, progress, symmetry) -> Exploration:
    start = time.perf_counter()
    comp = compiled or compiled_for(system)
    expand, first_violation, all_violations = comp.expand, comp.first_violation, comp.violations
    if symmetry is not None and not symmetry.active:
        symmetry = None
    canon = symmetry.canon if symmetry is not None else None
    seen_as: dict = {}        # a successor that is no representative -> its representative
    index: dict = {}
    states: list = []
    parent: list = []
    for s in (system.initial if canon is None else [canon(x) for x in system.initial]):
        if s not in index:
            index[s] = len(states)
            states.append(s)
            parent.append(None)
    initial = list(range(len(states)))
    refusals: list = []
    patterns: dict = {}
    fired: set = set()
    bound_hits = 0
    deadlocks = []
    violations = []
    violated = set()
    goal_fns = list(comp.goals)
    goal_hit = [None] * len(goal_fns)
    pending_goals = list(range(len(goal_fns)))

    def visit(node, s):
        nonlocal pending_goals
        if first_violation(s) >= 0 and len(violated) < len(system.invariants):
            for k in all_violations(s):
                if k not in violated:
                    violated.add(k)
                    inv = system.invariants[k]
                    violations.append((inv.name, inv.reqs, node))
        if pending_goals:
            still = []
            for k in pending_goals:
                if goal_fns[k](s):
                    goal_hit[k] = node
                else:
                    still.append(k)
            pending_goals = still

    g = nx.DiGraph() if graph else None
    if graph:
        # Fill networkx's own adjacency dicts as the search goes (what add_edges_from does,
        # without a second pass over millions of edges). Edge data dicts are shared between
        # edges with the same labels, so treat them as read-only.
        node_attr, succ_adj, pred_adj = g._node, g._succ, g._pred
        for node in initial:
            node_attr[node] = {}
            succ_adj[node] = {}
            pred_adj[node] = {}
    single = [{"labels": (label,)} for label in range(len(system.labels))]
    edge_data: dict = {}
    for node in initial:
        visit(node, states[node])
    truncated = False
    transitions = 0
    fired_add = fired.add
    i = 0
    while i < len(states):
        s = states[i]
        succ, refused, bound = expand(s)
        if bound:
            bound_hits += len(bound)
        key = tuple(refused)
        refusals.append(patterns.setdefault(key, key))
        transitions += len(succ)
        way_out = False
        out = succ_adj[i] if graph else None
        for label, t in succ:
            if t is s:
                j = i
            else:
                j = index.get(t)
                if j is None and canon is not None:
                    # a known representative needs no sorting; anything else is sorted once
                    c = seen_as.get(t)
                    if c is None:
                        c = seen_as[t] = canon(t)
                    t = c
                    j = index.get(t)
            if j is None:
                if max_states is not None and len(states) >= max_states:
                    truncated = True
                    continue
                j = len(states)
                index[t] = j
                states.append(t)
                parent.append((i, label))
                if graph:
                    node_attr[j] = {}
                    succ_adj[j] = {}
                    pred_adj[j] = {}
                visit(j, t)
            if j != i:
                way_out = True
            if graph:
                d = out.get(j)
                if d is None:
                    d = single[label]
                else:
                    labels = d["labels"] + (label,)
                    d = edge_data.get(labels)
                    if d is None:
                        d = edge_data[labels] = {"labels": labels}
                out[j] = d
                pred_adj[j][i] = d
            fired_add(label)
        if not way_out:
            deadlocks.append(i)
        i += 1
        if progress is not None and not i & 0x3FFF:
            progress(i, len(states))

    slot_values = {k: set(x[k] for x in states) for k in _control_slots(system)} if states else {}
    result = Exploration(system, states, initial, parent, g, refusals, transitions, [], {}, fired, bound_hits,
                         deadlocks, 0.0, truncated, slot_values, symmetry)
    for name, reqs, node in violations:
        result.violations.append(Violation(name, reqs, node, result.concrete_path(node), result.root_of(node)))
    result.goals = {p.name: hit for p, hit in zip(system.goals, goal_hit)}
    result.seconds = time.perf_counter() - start
    return result


def _control_slots(system):
    controls = {(m.family, m.control) for m in system.spec.machines.values()}
    return [s.index for s in system.layout.slots if (s.family, s.var) in controls]


def count_states(system, compiled: Compiled | None = None) -> int:
    """States reachable from the initial ones, with no graph, refusals or invariants."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        return _count(system, compiled)
    finally:
        if was_enabled:
            gc.enable()


def _count(system, compiled) -> int:
    comp = compiled or compiled_for(system)
    count_into = comp.count_into
    seen = set(system.initial)
    frontier = list(seen)
    while frontier:
        nxt = []
        push = nxt.append
        for s in frontier:
            count_into(s, seen, push)
        frontier = nxt
    return len(seen)


def compiled_for(system) -> Compiled:
    comp = getattr(system, "_compiled_fast", None)
    if comp is None:
        comp = Compiled(system)
        system._compiled_fast = comp
    return comp


def replay(system, actions, initial=None):
    """Apply actions one by one from an initial state; returns [(Action, Outcome)]."""
    state = system.initial[0] if initial is None else initial
    out = []
    for a in actions:
        outcome = system.step(state, a)
        out.append((a if isinstance(a, Action) else system.action(a).action, outcome))
        if outcome.accepted:
            state = outcome.state
    return out
