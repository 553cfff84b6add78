"""Conformance suites from the reachability graph (issue 6, item 1).

For each target of the chosen criteria (coverage.py) the shortest witness walk is known.
Cases are chosen greedily: the uncovered target with the longest witness first (a long
walk covers much on its way), its walk extended while a next step covers something new,
and refused actions whose target is still open inserted where the walk passes a state
that refuses them. Every walk is then replayed on the reference host, which must agree
with the model on every outcome; it records the observation after each step as the case's
expectation: what a user sees (every file's text, /dev, lsmod), compared by default, and
the model's variables, quantities and device model contents, compared on request.

The output is stable: the same spec gives byte-identical files (no times, sorted keys, a
digest of the spec's files in the header).
"""
from __future__ import annotations

import json
from pathlib import Path

from ..core.outcome import Accepted
from ..core.system import System
from ..explore.explorer import explore
from ..reference import visible
from ..reference.host import ReferenceHost
from ..reference.shell import Shell
from ..reference.sysfs import Sysfs
from ..spec.digest import spec_digest
from .by_hand import ByHand
from .coverage import CRITERIA, Go, Graph, Witness, covered_by, find_targets
from .reveal import reveal_targets
from .observe import flatten

FORMAT = 3                     # 2: observations hold what a user sees (files, /dev, lsmod);
                               # 3: steps may be `within` a command; a timed step takes its time
MAX_TOUR = 12                  # accepted steps a case may take beyond its witness
MAX_CASE = 40                  # steps a case may grow to by inserted refusals


class GenerateError(Exception):
    """The reference host disagrees with the model, or the request cannot be met."""


def kind_b(spec) -> frozenset:
    return frozenset(r for r, req in spec.requirements.items() if req.kind == "B")


def choose_cases(graph: Graph, criteria, kinds_b, reveals=None) -> tuple:
    """(walks, targets): the greedy cover of every target. `reveals`: label -> Witness of the
    reveals criterion (reveal.py), each covered by its own walk only."""
    targets = find_targets(graph, criteria, kinds_b)
    if "reveals" in criteria and reveals is not None:
        targets.by_criterion["reveals"] = sorted(reveals)
        targets.witness.update({("reveals", key): w for key, w in reveals.items()})
    wanted = set(targets.witness)
    order = sorted(wanted, key=lambda t: (-len(targets.witness[t].steps), CRITERIA.index(t[0]), repr(t[1])))
    covered: set = set()
    walks = []
    refusals_at: dict = {}
    if "refusals" in criteria:
        for key in targets.by_criterion["refusals"]:
            w = targets.witness[("refusals", key)]
            node = w.steps[-2].node if len(w.steps) > 1 else w.start
            refusals_at.setdefault(node, []).append(key)
    for target in order:
        if target in covered:
            continue
        walk = _tour(graph, targets.witness[target], covered, wanted, kinds_b)
        walk = _with_refusals(graph, walk, covered, refusals_at)
        covered |= (covered_by(graph, walk, kinds_b) & wanted) | {target}
        walks.append((walk, target))
    return walks, targets, covered


def _tour(graph, walk: Witness, covered, wanted, kinds_b) -> Witness:
    """Go on from the witness's end while a step covers something new."""
    got = covered | covered_by(graph, walk, kinds_b)
    steps = list(walk.steps)
    node = steps[-1].node if steps and isinstance(steps[-1], Go) else _end(graph, walk)
    last = next((graph.rule_of[s.label] for s in reversed(steps) if isinstance(s, Go)), None)
    for _ in range(MAX_TOUR):
        best = None
        for label, v in graph.succ[node]:
            rule = graph.rule_of[label]
            new = [t for t in (("transitions", label), ("pairs", (last, rule)), ("states", graph.kind(v)))
                   if t in wanted and t not in got]
            if new and (best is None or len(new) > best[0]):
                best = (len(new), label, v, new)
        if best is None:
            break
        _, label, v, new = best
        steps.append(Go(label, v))
        got.update(new)
        node, last = v, graph.rule_of[label]
    return Witness(walk.start, tuple(steps))


def _end(graph, walk):
    node = walk.start
    for s in walk.steps:
        if isinstance(s, Go):
            node = s.node
    return node


def _with_refusals(graph, walk: Witness, covered, refusals_at) -> Witness:
    """Insert open refusal targets at the states the walk passes, up to MAX_CASE steps."""
    from .coverage import Refuse
    room = MAX_CASE - len(walk.steps)
    present = {("refusals", (s.action, graph.ex.states[n][graph.system.actions[s.action].control], s.refusal))
               for n, s in _nodes(walk) if isinstance(s, Refuse)}
    out = []
    node = walk.start
    for step in list(walk.steps) + [None]:
        for key in refusals_at.get(node, ()):
            t = ("refusals", key)
            if room > 0 and t not in covered and t not in present:
                out.append(Refuse(key[0], key[2]))
                present.add(t)
                room -= 1
        if step is not None:
            out.append(step)
            if isinstance(step, Go):
                node = step.node
    return Witness(walk.start, tuple(out))


def _nodes(walk):
    node = walk.start
    for s in walk.steps:
        yield node, s
        if isinstance(s, Go):
            node = s.node


def generate(spec, spec_dir: Path, config: str, criteria=CRITERIA, progress=None, symmetric: bool = False) -> dict:
    """The suite document of one configuration. `symmetric`: from the graph of orbit
    representatives (issue 8): the targets are kinds up to renaming, so fewer cases, and
    every walk is taken with concrete names (each step renamed as the run goes)."""
    if config not in spec.configs:
        raise GenerateError(f"unknown configuration '{config}'; known: {', '.join(spec.configs)}")
    system = System(spec, config)
    canon = None
    if symmetric:
        from ..explore.symmetry import Canonicalizer
        canon = Canonicalizer(system)
    ex = explore(system, graph=True, symmetry=canon)
    canon = ex.symmetry
    graph = Graph(ex)
    kinds_b = kind_b(spec)
    reveals = None
    if "reveals" in criteria and canon is None:      # in a reduced graph the search would mix names
        reveals = reveal_targets(graph, spec)
    walks, targets, covered = choose_cases(graph, criteria, kinds_b, reveals)
    host = ReferenceHost(spec, config)
    varying = _varying(host.system)
    model_keys = set(system.describe(system.initial[0])) | set(system.quantities(system.initial[0]))
    cards = [i.label for i in host.pfs()]

    fs = Sysfs(host)
    shell = Shell(host, fs)
    by_hand = ByHand(spec, config, ahead=True)  # the operator's host: each step's command (by_hand.py)

    def observe():
        """What a user sees (compared by default) and the model's own labels of this
        configuration (compared on request), as one flat dict."""
        full = flatten(host.observation())
        own = {k: v for k, v in full.items()
               if k in model_keys or any(k.startswith(f"device.{c}.") for c in cards)}
        return flatten({"visible": visible.of_host(fs, shell)}) | own

    initial_states = []
    starts = {}
    for node in sorted({w.start for w, _ in walks}):
        d = system.describe(ex.states[node])
        choose = {k: d[k] for k in sorted(varying) if k in d}
        host.reset_to(choose)
        starts[node] = len(initial_states)
        initial_states.append({"choose": choose, "observe": observe()})
    cases = []
    for n, (walk, seed) in enumerate(walks):
        if progress:
            progress(n, len(walks))
        start = initial_states[starts[walk.start]]
        host.reset_to(start["choose"])
        by_hand.start(start["choose"])
        before = dict(start["observe"])
        steps = []
        group = None                                   # the step whose command does the next ones too
        node = walk.start
        concrete = ex.states[walk.start]          # the run's own state, names and all
        if canon is not None:
            from ..explore.symmetry import Follower
            follow = Follower(canon)
        case_id = f"{config}/{n + 1:04d}"
        for k, step in enumerate(walk.steps):
            if isinstance(step, Go):
                aid, tid = system.labels[step.label]
                expect = {"accepted": True, "transition": tid}
                reqs = _label_reqs(system, step.label)
            else:
                aid = step.action
                r = system.refusals[step.refusal]
                expect = {"accepted": False, "errno": r.errno, "rule": r.rule}
                reqs = sorted(r.reqs)
            if canon is not None:
                rep_aid, aid = aid, follow.concrete(aid)
                if isinstance(step, Go):
                    concrete = system.step(concrete, system.actions[aid]).state
                    follow.advance(ex.states[node], rep_aid, ex.states[step.node])
            action = str(system.actions[aid].action)
            got = host.apply(action)
            _agree(case_id, k, action, expect, got)
            inside = by_hand.within(action, got, host)
            if inside is False:                        # the line's later steps went another way
                _unmark(steps, group)
            command = by_hand.command(action, got, host) if inside is None else None
            if command and by_hand.pending:
                group = len(steps)                     # the line's step; the next ones are within it
            after = observe()
            model_view = (system.describe(concrete if canon is not None else ex.states[step.node])
                          if isinstance(step, Go) else None)
            if model_view is not None:
                wrong = {key: (v, after.get(key)) for key, v in model_view.items() if after.get(key) != _json(v)}
                if wrong:
                    key = sorted(wrong)[0]
                    raise GenerateError(f"{case_id} step {k + 1} {action}: the reference host shows {key}="
                                        f"{wrong[key][1]!r}, the model {wrong[key][0]!r}")
            changes = {key: v for key, v in after.items() if before.get(key, _ABSENT) != v}
            changes.update({key: None for key in before if key not in after})
            steps.append({"action": action, **({"command": command} if command else {}),
                          **({"within": True} if inside else {}), "expect": expect,
                          "reqs": reqs, "changes": dict(sorted(changes.items()))})
            before = after
            if isinstance(step, Go):
                node = step.node
        if by_hand.pending:                            # the case ended inside a line
            _unmark(steps, group)
        cases.append({"id": case_id, "initial": starts[walk.start],
                      "made_for": f"{seed[0]}: {_key_text(graph, *seed)}",
                      "reqs": sorted({r for s in steps for r in s["reqs"]}),
                      "steps": steps})
    coverage = {c: {"targets": len(targets.by_criterion.get(c, [])),
                    "covered": sum(1 for k in targets.by_criterion.get(c, []) if (c, k) in covered)} for c in criteria}
    return {
        "generated": "by gcu-model suite generate from the spec; do not edit (regenerate instead)",
        "format": FORMAT,
        "config": config,
        "spec_digest": spec_digest(spec_dir),
        "criteria": list(criteria),
        **({"symmetry": list(canon.reduced)} if canon is not None else {}),
        "coverage": coverage,
        # what the spec defines but this configuration can never reach (the exploration is
        # exhaustive, so these are proven unreachable here, not missed)
        "unreachable": {"transitions": sorted(ex.never_fired()), "machine_states": sorted(ex.unreached_states())},
        "initial_states": initial_states,
        "cases": cases,
    }


_ABSENT = object()


def _json(v):
    return sorted(v) if isinstance(v, (set, frozenset, tuple)) else v


def _label_reqs(system, label):
    from .coverage import reqs_of_label
    return list(reqs_of_label(system, label))


def _key_text(graph, criterion, key) -> str:
    system = graph.system
    if criterion == "states":
        return graph.kind_text(key)
    if criterion == "transitions":
        aid, tid = system.labels[key]
        return f"{system.actions[aid].action} by {tid}"
    if criterion == "reveals":
        aid, tid = system.labels[key[0]]
        layout = system.layout
        hidden = ", ".join(f"{layout.slots[i].label} {layout.decode(a, layout.slots[i].type)} -> "
                           f"{layout.decode(b, layout.slots[i].type)}" for i, a, b in key[1])
        if len(key) > 2:                     # the hidden write left a wrong value instead
            i = key[1][0][0]
            hidden += f", not {layout.decode(key[2], layout.slots[i].type)}"
        return f"{system.actions[aid].action} by {tid} ({hidden}, unseen), then what shows it"
    if criterion == "refusals":
        aid, value, rid = key
        ga = system.actions[aid]
        return f"{ga.action} in {ga.states[value]}: {system.refusals[rid].errno} ({system.refusals[rid].rule})"
    if criterion == "pairs":
        return f"{key[0]} then {key[1]}"
    return str(key)


def _varying(system) -> set:
    """Variables whose value differs among the configuration's initial states."""
    views = [system.describe(s) for s in system.initial]
    return {k for k in views[0] if len({repr(v.get(k)) for v in views}) > 1}


def _agree(case_id, k, action, expect, got):
    outcome = got.outcome
    if expect["accepted"]:
        ok = isinstance(outcome, Accepted) and outcome.transition == expect["transition"]
    else:
        ok = not isinstance(outcome, Accepted) and getattr(outcome, "errno", None) == expect["errno"]
    if not ok:
        raise GenerateError(f"{case_id} step {k + 1} {action}: the model expects {expect}, the reference host "
                            f"gave {outcome}")


def write_suite(doc: dict, path: Path) -> None:
    path.write_text(render(doc), encoding="utf-8")


def render(doc: dict) -> str:
    """The suite as text: one JSON document, a step a line, keys sorted."""
    head = {k: v for k, v in doc.items() if k != "cases"}
    lines = ["{"]
    for k in sorted(head):
        lines.append(f" {json.dumps(k)}: {json.dumps(head[k], sort_keys=True)},")
    lines.append(' "cases": [')
    for n, case in enumerate(doc["cases"]):
        meta = {k: v for k, v in case.items() if k != "steps"}
        lines.append("  {" + json.dumps(meta, sort_keys=True)[1:-1] + ', "steps": [')
        for m, step in enumerate(case["steps"]):
            lines.append("   " + json.dumps(step, sort_keys=True) + ("," if m < len(case["steps"]) - 1 else ""))
        lines.append("  ]}" + ("," if n < len(doc["cases"]) - 1 else ""))
    lines.append(" ]")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _unmark(steps: list, group: int | None) -> None:
    """A line's later steps were not what the suite did: the line is no step's command."""
    if group is None:
        return
    steps[group].pop("command", None)
    for st in steps[group + 1:]:
        st.pop("within", None)
