"""What the conformance kit costs on this machine (issue 6): per configuration, the
cases and steps of its generated suite, the seconds to generate it and to run it against
the reference target; then totals, and optionally the mutation run.

    python bench/bench_conform.py [--config NAME]... [--mutants] [--lockstep N [--seed S]] [--json]

--lockstep N also runs a lockstep campaign of N runs on each configuration against the
reference (seeded: the same runs each time) and reports its steps per second.

Target: the full suite of every configuration runs against the reference in under 60 s.
"""
from __future__ import annotations

import json
import platform
import time

from gcu_model.adapters.targets import open_target
from gcu_model.conform import default_suite_dir, kit_dir
from gcu_model.conform.generate import generate
from gcu_model.conform.lockstep import run_lockstep
from gcu_model.conform.mutants import load_mutants, run_mutant
from gcu_model.conform.runner import Runner
from gcu_model.conform.suite import load_suite
from gcu_model.spec.loader import default_spec_dir, load_spec
from timing import bench_parser, chosen_configs


def main(argv=None):
    parser = bench_parser(__doc__, repeat=False)
    parser.add_argument("--mutants", action="store_true", help="also time catching every mutant")
    parser.add_argument("--lockstep", type=int, default=0, metavar="N", help="also time N lockstep runs a configuration")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    spec = load_spec()
    names = chosen_configs(parser, spec, args.config)
    runner = Runner(open_target("reference", spec))
    rows = []
    for name in names:
        t0 = time.perf_counter()
        generate(spec, default_spec_dir(), name)
        gen_s = time.perf_counter() - t0
        suite = load_suite(default_suite_dir() / f"{name}.json")
        t0 = time.perf_counter()
        results = [runner.run_case(c) for c in suite.cases]
        run_s = time.perf_counter() - t0
        row = {"config": name, "cases": len(results), "steps": sum(r.steps for r in results),
               "passed": sum(r.passed for r in results), "generate_s": round(gen_s, 2), "run_s": round(run_s, 2)}
        if args.lockstep:
            lr = run_lockstep(spec, name, runner.target, examples=args.lockstep, seed=args.seed)
            row.update(lockstep_runs=lr.examples, lockstep_steps=lr.steps, lockstep_s=round(lr.seconds, 2),
                       lockstep_steps_per_s=round(lr.steps / lr.seconds) if lr.seconds else None)
        rows.append(row)
    total = {k: sum(r[k] for r in rows) for k in ("cases", "steps", "passed")}
    total.update({k: round(sum(r[k] for r in rows), 2) for k in ("generate_s", "run_s")})
    mutants = []
    if args.mutants:
        suites = [load_suite(default_suite_dir() / f"{n}.json") for n in spec.configs]
        for m in load_mutants(kit_dir() / "mutants"):
            r = run_mutant(m, spec, default_spec_dir(), kit_dir(), suites)
            mutants.append({"mutant": m.name, "caught": r.caught, "suite_s": round(r.suite_seconds, 2),
                            "suite_cases_run": r.suite_cases_run, "lockstep_s": round(r.lockstep_seconds, 2),
                            "lockstep_steps": r.lockstep_steps})
    doc = {"machine": platform.processor() or platform.machine(), "python": platform.python_version(),
           "configs": rows, "total": total, "mutants": mutants}
    if args.json:
        print(json.dumps(doc, indent=2))
        return
    print(f"{'config':18} {'cases':>6} {'steps':>7} {'passed':>7} {'generate s':>11} {'run s':>7}")
    for r in rows + [dict(total, config="total")]:
        lockstep = (f"   lockstep {r['lockstep_runs']} runs {r['lockstep_steps']} steps {r['lockstep_s']:.2f} s "
                    f"({r['lockstep_steps_per_s']} steps/s)" if "lockstep_steps" in r else "")
        print(f"{r['config']:18} {r['cases']:>6} {r['steps']:>7} {r['passed']:>7} {r['generate_s']:>11.2f} "
              f"{r['run_s']:>7.2f}{lockstep}")
    for m in mutants:
        print(f"{m['mutant']:40} caught={m['caught']} suite {m['suite_s']:.2f} s ({m['suite_cases_run']} cases), "
              f"lockstep {m['lockstep_s']:.2f} s ({m['lockstep_steps']} steps)")


if __name__ == "__main__":
    main()
