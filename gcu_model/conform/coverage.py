"""Coverage targets of a configuration's reachability graph, and the shortest witness of
each (issue 6, item 1).

Criteria, each selectable:

- `states`: every kind of state, i.e. every combination of the machines' control states
  (host.kmd=loaded, card0.binding=vfio, vm0=running ...) that is reachable. The extended
  variables (counters, flags) are what the observations check at every step.
- `transitions`: every accepted ground transition: an action with its parameters, and the
  spec transition that fires for it (`open_pf(card=card0)` by pf.open_pf#1).
- `refusals`: every refused action in every control state of its machine, with each reason
  (refusal rule) it can be refused for there: a negative step expecting the errno.
- `pairs`: every pair of spec transitions that fire one right after the other somewhere.
- `reqs`: every requirement ID of kind B that a fired transition, a refusal or a goal
  state carries.
- `reveals`: every ground transition whose effect no user sees at once, followed by the
  shortest steps that make it show (reveal.py).

A walk is a list of steps from an initial state. Nodes are numbered in breadth-first order,
so the first node found with a property is a shallowest one, and the walk to it follows
the BFS tree (`Exploration.parent`).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from ..spec.ruleref import RuleRef

CRITERIA = ("states", "transitions", "refusals", "pairs", "reqs", "reveals")


@dataclass(frozen=True)
class Go:
    """An accepted step along an edge of the graph."""
    label: int          # system.labels id: (action id, transition id)
    node: int           # the state it leads to


@dataclass(frozen=True)
class Refuse:
    """A refused step: the state stays."""
    action: int         # action id
    refusal: int        # system.refusals id


@dataclass
class Witness:
    start: int          # the initial node the walk starts from
    steps: tuple        # Go / Refuse


@dataclass
class Targets:
    """Every target of every criterion, with its shortest witness."""
    witness: dict = field(default_factory=dict)     # (criterion, key) -> Witness
    by_criterion: dict = field(default_factory=dict)  # criterion -> [key, ...] in a stable order


class Graph:
    """What the coverage needs of an Exploration: successors by label, refusals, depths."""

    def __init__(self, exploration):
        self.ex = exploration
        self.system = exploration.system
        self.controls = tuple(sorted({ga.control for ga in self.system.actions}))
        n = len(exploration.states)
        self.depth = [0] * n
        for node in range(n):
            p = exploration.parent[node]
            if p is not None:
                self.depth[node] = self.depth[p[0]] + 1
        self.succ = [[] for _ in range(n)]           # node -> [(label, next node)] sorted
        g = exploration.graph
        for u in range(n):
            out = []
            for v, data in g._succ[u].items():
                out.extend((label, v) for label in data["labels"])
            out.sort()
            self.succ[u] = out
        self.rule_of = [tid for _, tid in self.system.labels]

    def kind(self, node: int) -> tuple:
        s = self.ex.states[node]
        return tuple(s[c] for c in self.controls)

    def kind_text(self, key: tuple) -> str:
        layout = self.system.layout
        return ", ".join(f"{layout.slots[c].label}={layout.decode(v, layout.slots[c].type)}"
                         for c, v in zip(self.controls, key))

    def path_to(self, node: int) -> Witness:
        steps = []
        while self.ex.parent[node] is not None:
            pred, label = self.ex.parent[node]
            steps.append(Go(label, node))
            node = pred
        steps.reverse()
        return Witness(node, tuple(steps))

    def extend(self, w: Witness, *more) -> Witness:
        return Witness(w.start, w.steps + tuple(more))


def bound_refusals(system) -> frozenset:
    """Refusal ids that come from an exploration bound (a check reading a constant marked
    `exploration_bound`, such as max_opens): the explorer's limit, not the driver's rule,
    so never a conformance target (a target may allow more)."""
    import re
    spec = system.spec
    names = {n for n, c in spec.constants.items() if getattr(c, "exploration_bound", False)}
    if not names:
        return frozenset()
    pattern = re.compile(r"\b(" + "|".join(map(re.escape, sorted(names))) + r")\b")
    rules = set()
    for t in spec.transitions:
        for i, c in enumerate(t.checks):
            if pattern.search(c.source):
                rules.add(RuleRef.guard(t.id, i + 1))
    for decl in spec.actions.values():
        for i, c in enumerate(decl.checks):
            if pattern.search(c.source):
                rules.add(RuleRef.check(decl.name, i + 1))
    return frozenset(r.id for r in system.refusals if r.ref in rules)


def reqs_of_label(system, label: int) -> tuple:
    """The requirement IDs a ground transition covers: its transition's and its action's."""
    cache = system.__dict__.setdefault("_label_reqs", {})
    if label not in cache:
        aid, tid = system.labels[label]
        t = next(t for t in system.spec.transitions if t.id == tid)
        cache[label] = tuple(sorted(set(t.reqs) | set(system.actions[aid].decl.reqs)))
    return cache[label]


def find_targets(graph: Graph, criteria=CRITERIA, kind_b: frozenset = frozenset()) -> Targets:
    """Every target of the chosen criteria with its shortest witness."""
    system, ex = graph.system, graph.ex
    out = Targets()
    want = set(criteria)
    states_w, labels_w, refusals_w, pairs_w = {}, {}, {}, {}
    bounded = bound_refusals(system)
    n = len(ex.states)
    for u in range(n):                                   # BFS order: first found is shallowest
        if "states" in want:
            k = graph.kind(u)
            if k not in states_w:
                states_w[k] = u
        s = ex.states[u]
        for aid, rid in ex.refusals[u]:
            if rid in bounded:
                continue
            key = (aid, s[system.actions[aid].control], rid)
            if key not in refusals_w:
                refusals_w[key] = u
        if "pairs" in want:                              # arrive at v by a, leave it by b
            for label_a, v in graph.succ[u]:
                a = graph.rule_of[label_a]
                for label_b, w in graph.succ[v]:
                    key = (a, graph.rule_of[label_b])
                    if key not in pairs_w:
                        pairs_w[key] = (u, label_a, v, label_b, w)

    labels_w.update(first_firings(graph))
    if "states" in want:
        keys = sorted(states_w)
        out.by_criterion["states"] = keys
        for k in keys:
            out.witness[("states", k)] = graph.path_to(states_w[k])
    if "transitions" in want:
        keys = sorted(labels_w)
        out.by_criterion["transitions"] = keys
        for label in keys:
            u, v = labels_w[label]
            out.witness[("transitions", label)] = graph.extend(graph.path_to(u), Go(label, v))
    if "refusals" in want:
        keys = sorted(refusals_w)
        out.by_criterion["refusals"] = keys
        for key in keys:
            aid, _, rid = key
            out.witness[("refusals", key)] = graph.extend(graph.path_to(refusals_w[key]), Refuse(aid, rid))
    if "pairs" in want:
        keys = sorted(pairs_w)
        out.by_criterion["pairs"] = keys
        for key in keys:
            u, la, v, lb, w = pairs_w[key]
            out.witness[("pairs", key)] = graph.extend(graph.path_to(u), Go(la, v), Go(lb, w))
    if "reqs" in want:
        carriers: dict = {}
        for label in labels_w:
            u, v = labels_w[label]
            for r in reqs_of_label(system, label):
                cand = (graph.depth[u] + 1, ("transitions", label))
                carriers[r] = min(carriers.get(r, cand), cand)
        for key, u in refusals_w.items():
            for r in system.refusals[key[2]].reqs:
                cand = (graph.depth[u] + 1, ("refusals", key))
                carriers[r] = min(carriers.get(r, cand), cand)
        keys = sorted(r for r in carriers if r in kind_b)
        out.by_criterion["reqs"] = keys
        for r in keys:
            _, (crit, key) = carriers[r]
            if crit == "transitions":
                u, v = labels_w[key]
                w = graph.extend(graph.path_to(u), Go(key, v))
            else:
                w = graph.extend(graph.path_to(refusals_w[key]), Refuse(key[0], key[2]))
            out.witness[("reqs", r)] = w
    return out


def first_firings(graph: Graph) -> dict:
    """label -> (u, v): where each ground transition fires first in BFS order (shallowest)."""
    cache = graph.__dict__.get("_first_firings")
    if cache is None:
        cache = graph._first_firings = {}
        for u in range(len(graph.ex.states)):
            for label, v in graph.succ[u]:
                cache.setdefault(label, (u, v))
    return cache


def covered_by(graph: Graph, walk: Witness, kind_b: frozenset) -> set:
    """Every (criterion, key) the walk covers."""
    system, ex = graph.system, graph.ex
    got = set()
    node = walk.start
    got.add(("states", graph.kind(node)))
    last_rule = None
    for step in walk.steps:
        if isinstance(step, Go):
            rule = graph.rule_of[step.label]
            got.add(("transitions", step.label))
            if last_rule is not None:
                got.add(("pairs", (last_rule, rule)))
            for r in reqs_of_label(system, step.label):
                if r in kind_b:
                    got.add(("reqs", r))
            last_rule = rule
            node = step.node
            got.add(("states", graph.kind(node)))
        else:
            s = ex.states[node]
            got.add(("refusals", (step.action, s[system.actions[step.action].control], step.refusal)))
            for r in system.refusals[step.refusal].reqs:
                if r in kind_b:
                    got.add(("reqs", r))
            # a refused step leaves the state alone; the next accepted step pairs with the last one
    return got
