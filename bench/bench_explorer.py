"""Explorer speed on this machine (issue 2, Speed): states per second per configuration.

    python bench/bench_explorer.py [--config NAME]... [--repeat N] [--json]

Three figures per configuration, best of N runs each:
  graph   - full exploration into a networkx DiGraph: refusals, invariants, goals (target 50,000/s)
  nograph - the same search without building the graph
  count   - reachable states only: no graph, refusals or invariants (target 200,000/s)
The code generation and the spec load are timed apart and not counted in the rates.
"""
from __future__ import annotations

import json
import platform
import sys
import time

from gcu_model.core.system import System
from gcu_model.explore.explorer import compiled_for, count_states, explore
from gcu_model.spec.loader import load_spec
from timing import bench_parser, best, chosen_configs


def main(argv=None):
    parser = bench_parser(__doc__)
    args = parser.parse_args(argv)
    t0 = time.perf_counter()
    spec = load_spec()
    load_s = time.perf_counter() - t0
    names = chosen_configs(parser, spec, args.config)
    rows = []
    for name in names:
        system = System(spec, name)
        t0 = time.perf_counter()
        compiled_for(system)
        codegen_s = time.perf_counter() - t0
        g_s, g = best(lambda: explore(system, graph=True), args.repeat)
        n_s, _ = best(lambda: explore(system, graph=False), args.repeat)
        c_s, count = best(lambda: count_states(system), args.repeat)
        states = len(g.states)
        assert count == states, (count, states)
        rows.append({"config": name, "states": states, "edges": g.transitions,
                     "graph_edges": g.graph.number_of_edges(), "codegen_s": round(codegen_s, 3),
                     "graph_per_s": round(states / g_s), "nograph_per_s": round(states / n_s),
                     "count_per_s": round(states / c_s), "graph_s": round(g_s, 3), "count_s": round(c_s, 3)})
    total_states = sum(r["states"] for r in rows)
    total = {"states": total_states,
             "graph_per_s": round(total_states / sum(r["states"] / r["graph_per_s"] for r in rows)),
             "count_per_s": round(total_states / sum(r["states"] / r["count_per_s"] for r in rows))}
    out = {"python": platform.python_version(), "machine": platform.machine(), "spec_load_s": round(load_s, 3),
           "configs": rows, "all": total}
    if args.json:
        print(json.dumps(out, indent=2))
        return 0
    print(f"spec load {load_s:.2f} s (python {out['python']}, {out['machine']})")
    print(f"{'config':<12}{'states':>10}{'edges':>11}{'codegen s':>11}{'graph/s':>10}{'nograph/s':>11}{'count/s':>10}")
    for r in rows:
        print(f"{r['config']:<12}{r['states']:>10,}{r['edges']:>11,}{r['codegen_s']:>11.2f}{r['graph_per_s']:>10,}"
              f"{r['nograph_per_s']:>11,}{r['count_per_s']:>10,}")
    print(f"{'all':<12}{total_states:>10,}{'':>11}{'':>11}{total['graph_per_s']:>10,}{'':>11}{total['count_per_s']:>10,}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
