"""What `gcu-model check` costs on this machine (issues 3 and 4): per configuration, the
exploration (states, edges, seconds) and the z3 induction proofs (seconds), then totals.

    python bench/bench_check.py [--config NAME]... [--json]

Targets: every embedded configuration explored with every invariant in under 60 s in
total (issue 3); every proof in under 30 s in total (issue 4). The spec load (with its
static z3 checks) is timed apart.
"""
from __future__ import annotations

import json
import platform
import time

from gcu_model.core.system import System
from gcu_model.explore.explorer import explore
from gcu_model.prove.induction import prove
from gcu_model.spec.loader import load_spec
from timing import bench_parser, chosen_configs


def main(argv=None):
    parser = bench_parser(__doc__, repeat=False)
    args = parser.parse_args(argv)
    t0 = time.perf_counter()
    spec = load_spec()
    load_s = time.perf_counter() - t0
    names = chosen_configs(parser, spec, args.config)
    rows = []
    for name in names:
        t0 = time.perf_counter()
        result = explore(System(spec, name), graph=False)
        explore_s = time.perf_counter() - t0
        proof = prove(spec, name)
        rows.append({"config": name, "states": len(result.states), "edges": result.transitions,
                     "invariants": len(result.system.invariants), "violations": len(result.violations),
                     "explore_s": round(explore_s, 3), "proven": sum(p.status == "proven" for p in proof.invariants),
                     "prove_s": round(proof.seconds, 3), "z3_queries": proof.queries})
    totals = {"spec_load_s": round(load_s, 3), "explore_s": round(sum(r["explore_s"] for r in rows), 2),
              "prove_s": round(sum(r["prove_s"] for r in rows), 2),
              "states": sum(r["states"] for r in rows), "edges": sum(r["edges"] for r in rows),
              "machine": f"{platform.python_implementation()} {platform.python_version()} on {platform.machine()}"}
    if args.json:
        print(json.dumps({"configs": rows, "totals": totals}, indent=2))
        return
    print(f"{'config':18} {'states':>8} {'edges':>9} {'inv':>4} {'explore s':>9} {'proven':>7} {'prove s':>8}")
    for r in rows:
        print(f"{r['config']:18} {r['states']:>8,} {r['edges']:>9,} {r['invariants']:>4} {r['explore_s']:>9.3f} "
              f"{r['proven']:>3}/{r['invariants']:<3} {r['prove_s']:>8.3f}")
    print(f"total: {totals['states']:,} states, {totals['edges']:,} edges; explore {totals['explore_s']} s, "
          f"prove {totals['prove_s']} s, spec load {totals['spec_load_s']} s ({totals['machine']})")


if __name__ == "__main__":
    main()
