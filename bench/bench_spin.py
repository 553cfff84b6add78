"""The explorer against SPIN on the same configurations, in one run (issue 8, item 3).

    python bench/bench_spin.py [--config NAME]... [--repeat N] [--json]

For each configuration: `gcu-model export --format promela`, SPIN (spin -a, cc, pan in
breadth-first safety mode), and the explorer. Prints both state counts, which must agree
(SPIN stores one more for a configuration with several initial states: its start state
before the choice), and the speed ratios:

  count  the explorer's count_states against pan without the invariant assertions
         (both only find the reachable states)      target: 1/3 of SPIN's rate or better
  graph  the explorer building the full networkx graph with refusals, invariants and
         goals, against pan with every invariant asserted after every step
                                                     target: 1/10 or better
Rates are totals over the configurations (states / seconds), best of N runs; pan's own
search time is used, not the C compile. Exit 1 when a count disagrees. Needs spin and cc.
"""
from __future__ import annotations

import json
import platform
import sys
import tempfile
from pathlib import Path

from gcu_model.core.system import System
from gcu_model.explore import spin
from gcu_model.explore.explorer import compiled_for, count_states, explore
from gcu_model.explore.promela import export
from gcu_model.spec.loader import load_spec
from timing import bench_parser, best, chosen_configs


def main(argv=None):
    parser = bench_parser(__doc__)
    args = parser.parse_args(argv)
    if spin.missing():
        print(f"bench_spin: {spin.missing()}", file=sys.stderr)
        return 2
    spec = load_spec()
    names = chosen_configs(parser, spec, args.config)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in names:
            system = System(spec, name)
            compiled_for(system)
            count_s, states = best(lambda: count_states(system), args.repeat)
            graph_s, _ = best(lambda: explore(system, graph=True), args.repeat)
            plain, extra = export(system, with_invariants=False)
            checked, _ = export(system, with_invariants=True)
            runs = []
            for k, src in enumerate((plain, checked)):
                where = Path(tmp) / f"{name}-{k}"
                compiled = spin.compile_model(src, where)
                run = min((spin.search(where) for _ in range(args.repeat)), key=lambda r: r.seconds)
                run.compile_seconds = compiled
                runs.append(run)
            rows.append({"config": name, "explorer_states": states, "spin_states": runs[0].states - extra,
                         "agree": runs[0].states - extra == states and runs[1].states - extra == states,
                         "spin_errors": runs[1].errors, "count_s": count_s, "spin_s": runs[0].seconds,
                         "graph_s": graph_s, "spin_checked_s": runs[1].seconds,
                         "spin_compile_s": runs[0].compile_seconds + runs[1].compile_seconds})
    total = {k: sum(r[k] for r in rows) for k in ("explorer_states", "count_s", "spin_s", "graph_s", "spin_checked_s")}
    ratio_count = (total["spin_s"] / total["count_s"]) if total["count_s"] else None
    ratio_graph = (total["spin_checked_s"] / total["graph_s"]) if total["graph_s"] else None
    doc = {"machine": platform.processor() or platform.machine(), "python": platform.python_version(),
           "configs": rows, "total": total,
           "count_speed_vs_spin": ratio_count, "graph_speed_vs_spin": ratio_graph,
           "all_agree": all(r["agree"] for r in rows)}
    if args.json:
        print(json.dumps(doc, indent=2))
    else:
        print(f"{'config':18} {'explorer':>9} {'SPIN':>9} {'agree':>5} {'count s':>8} {'pan s':>7} "
              f"{'graph s':>8} {'pan+inv s':>9}")
        for r in rows:
            print(f"{r['config']:18} {r['explorer_states']:>9,} {r['spin_states']:>9,} {str(r['agree']):>5} "
                  f"{r['count_s']:>8.3f} {r['spin_s']:>7.3f} {r['graph_s']:>8.3f} {r['spin_checked_s']:>9.3f}")
        print(f"{'total':18} {total['explorer_states']:>9,} {'':>9} {'':>5} {total['count_s']:>8.3f} "
              f"{total['spin_s']:>7.3f} {total['graph_s']:>8.3f} {total['spin_checked_s']:>9.3f}")
        fmt = lambda r: f"{r:.2f} of SPIN's rate" if r is not None else "n/a"  # noqa: E731
        print(f"counting: explorer at {fmt(ratio_count)} (target 0.33); "
              f"graph: explorer at {fmt(ratio_graph)} (target 0.10)")
    return 0 if doc["all_agree"] else 1


if __name__ == "__main__":
    sys.exit(main())
