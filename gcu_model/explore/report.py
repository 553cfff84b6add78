"""What `gcu-model check` and `explore` report for one configuration, as plain data.

The --json output of the CLI is exactly these dicts; docs/json-output.md describes them.
"""
from __future__ import annotations


def summary(result) -> dict:
    sysm = result.system
    violated = {v.invariant: v for v in result.violations}
    invariants = []
    for p in sysm.invariants:
        v = violated.get(p.name)
        entry = {"name": p.name, "reqs": list(p.reqs), "held": v is None}
        if v is not None:
            entry["counterexample"] = {
                "initial": sysm.describe(result.states[v.initial]),
                "actions": [str(a) for a in v.path],
                "state": sysm.describe(result.concrete_state(v.state)),
            }
        invariants.append(entry)
    goals = []
    for p in sysm.goals:
        node = result.goals.get(p.name)
        entry = {"name": p.name, "reqs": list(p.reqs), "reached": node is not None}
        if node is not None:
            entry["witness"] = [str(a) for a in result.concrete_path(node)]
            entry["witness_initial"] = sysm.describe(result.states[result.root_of(node)])
        goals.append(entry)
    return {
        "config": result.config,
        "description": sysm.config.description,
        "states": len(result.states),
        # issue 8: the families whose renamings were folded (states are then orbit representatives)
        "symmetry": list(result.symmetry.reduced) if result.symmetry is not None else [],
        "initial_states": len(result.initial),
        # edges: accepted (state, action) pairs, i.e. the labelled transitions; the graph
        # merges parallel ones into one networkx edge (graph_edges, when a graph was built)
        "edges": result.transitions,
        "refusals": result.refusal_count(),
        "refusal_kinds": len(result.refusal_kinds()),
        "bound_hits": result.bound_hits,
        "deadlocks": len(result.deadlocks),
        "truncated": result.truncated,
        "invariants": invariants,
        "goals": goals,
        "never_fired": result.never_fired(),
        "unreached_states": result.unreached_states(),
        "seconds": round(result.seconds, 3),
        "ok": not result.violations and all(g["reached"] for g in goals) and not result.truncated,
    } | ({"graph_edges": result.graph.number_of_edges()} if result.graph is not None else {})
