"""Scale on this machine (issue 8): symmetry reduction, how a server host grows, the
compositional check of the composed hosts, and the whole `gcu-model check`.

    python bench/bench_scale.py [--growth N] [--json]

  symmetry   per configuration where a family is interchangeable: states and seconds of
             the full and the reduced exploration
  growth     the composed host's base configuration with 1..N cards (default 2), reduced:
             why the big host is checked in parts (N=3 takes minutes)
  composed   each composed host's check in parts: seconds and the peak memory of this
             process (targets: under 60 s and under 4 GiB)
  check      `gcu-model check` over every embedded configuration and composed host, proofs
             included, as a user runs it (target: under 60 s)
"""
from __future__ import annotations

import argparse
import json
import platform
import resource
import subprocess
import sys
import time

from gcu_model.core.system import System
from gcu_model.explore.compose import check_composed
from gcu_model.explore.explorer import compiled_for, explore
from gcu_model.explore.symmetry import Canonicalizer
from gcu_model.spec.loader import load_spec
from timing import best


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--growth", type=int, default=2, metavar="N", help="cards of the growth table (default 2)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    spec = load_spec()
    symmetry = []
    for name in spec.configs:
        system = System(spec, name)
        canon = Canonicalizer(system)
        if not canon.active:
            continue
        compiled_for(system)
        full_s, full = best(lambda: explore(system, graph=False))
        red_s, red = best(lambda: explore(system, graph=False, symmetry=canon))
        symmetry.append({"config": name, "families": list(canon.reduced), "full_states": len(full.states),
                         "full_s": round(full_s, 3), "reduced_states": len(red.states), "reduced_s": round(red_s, 3)})
    growth = []
    for host in spec.composed.values():
        base = spec.configs[host.base]
        count_name = spec.families[host.family].count
        for n in range(1, args.growth + 1):
            values = dict(base.values)
            values[count_name] = n
            system = System(spec, spec.derive_config(f"{host.base} x{n}", values, base.initial))
            secs, result = best(lambda: explore(system, graph=False, symmetry=Canonicalizer(system)))
            growth.append({"host": host.name, host.family + "s": n, "reduced_states": len(result.states),
                           "seconds": round(secs, 2)})
    composed = []
    for host in spec.composed.values():
        secs, result = best(lambda: check_composed(spec, host))
        composed.append({"host": host.name, "count": host.count, "ok": result.ok, "seconds": round(secs, 2),
                         "pair_states": result.pair["states"], "proof_s": round(result.proof.seconds, 2),
                         "steps_checked": result.steps_checked,
                         "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)})
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "gcu_model", "check", "--json"], capture_output=True, text=True)
    check = {"seconds": round(time.perf_counter() - start, 2), "exit": proc.returncode,
             "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)}
    doc = {"machine": f"{platform.python_implementation()} {platform.python_version()} on {platform.machine()}",
           "symmetry": symmetry, "growth": growth, "composed": composed, "check": check}
    if args.json:
        print(json.dumps(doc, indent=2))
        return 0
    print(f"{'config':18} {'families':>14} {'full':>9} {'s':>7} {'reduced':>9} {'s':>7}")
    for r in symmetry:
        print(f"{r['config']:18} {','.join(r['families']):>14} {r['full_states']:>9,} {r['full_s']:>7.2f} "
              f"{r['reduced_states']:>9,} {r['reduced_s']:>7.2f}")
    for r in growth:
        n = next(v for k, v in r.items() if k.endswith("s") and k not in ("reduced_states", "seconds"))
        print(f"growth {r['host']}: {n} -> {r['reduced_states']:,} representatives in {r['seconds']} s")
    for r in composed:
        print(f"composed {r['host']} ({r['count']}): ok={r['ok']} in {r['seconds']} s (two-card host "
              f"{r['pair_states']:,} states, proofs {r['proof_s']} s, {r['steps_checked']} steps asked of z3), "
              f"peak {r['peak_rss_mib']} MiB")
    print(f"gcu-model check, everything: {check['seconds']} s, exit {check['exit']}, peak {check['peak_rss_mib']} MiB")
    return 0 if check["exit"] == 0 and all(r["ok"] for r in composed) else 1


if __name__ == "__main__":
    sys.exit(main())
