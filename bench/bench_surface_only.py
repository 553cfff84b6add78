"""Issue 16's acceptance on this machine: a target that offers only the surface (the reference
host with no `observe`: every step observed by walking `list`, `read` and `run lsmod` /
`run ps -aux`, as on a real host, so no model-only variable can be compared) passes every
case of every configuration's suite and a lockstep campaign of N runs on every configuration.

    python bench/bench_surface_only.py [--config NAME]... [--runs N] [--seed S] [--fuse]
                                       [--via apply|surface] [--json]

--fuse: the reference behind its live FUSE tree instead (`gcu-model serve-sysfs` in a process
of its own, the target `sysfs:MOUNT`): files are read and written through the kernel, and
its control folder offers reset, run and apply but no observation unless asked for the
model's. --via surface: each step that has a command line is sent as that line.

Prints a row a configuration (cases passed, lockstep runs, steps, seconds, steps per second)
and exits 1 when any case or campaign fails, 0 when all pass. N defaults to 500.
"""
from __future__ import annotations

import contextlib
import json
import sys
import tempfile
import time

from gcu_model.adapters.targets import InProcessTarget, open_target
from gcu_model.conform import default_suite_dir
from gcu_model.conform.lockstep import run_lockstep
from gcu_model.conform.runner import Runner
from gcu_model.conform.suite import load_suite
from gcu_model.reference.fuse_fs import MountError, available, mounted
from gcu_model.reference.protocol import Server
from gcu_model.spec.loader import load_spec
from timing import bench_parser, chosen_configs


class SurfaceOnly:
    """The reference host behind the protocol, without `observe`."""

    def __init__(self, spec):
        self.server = Server(spec)

    def handle(self, req):
        if req.get("op") == "observe":
            return {"ok": False, "error": "unknown op 'observe'"}
        return self.server.handle(req)


def main(argv=None):
    parser = bench_parser(__doc__, repeat=False)
    parser.add_argument("--runs", type=int, default=500, metavar="N", help="lockstep runs a configuration")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--fuse", action="store_true", help="through a live FUSE mount")
    parser.add_argument("--via", choices=("apply", "surface"), default="apply")
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs takes N >= 1")
    if args.fuse and available():
        print(f"cannot mount: {available()}", file=sys.stderr)
        return 2                            # (mounted() says so too when fusermount3 is missing)
    spec = load_spec()
    with contextlib.ExitStack() as stack:
        if args.fuse:
            point = stack.enter_context(tempfile.TemporaryDirectory(prefix="gcu-fuse-"))
            try:
                root = stack.enter_context(mounted(f"{point}/host", startup_timeout=600))  # a loaded box
            except MountError as exc:
                print(exc, file=sys.stderr)
                return 2
            target = open_target(f"sysfs:{root}")
        else:
            target = InProcessTarget("surface-only", lambda: SurfaceOnly(spec))
        return campaign(spec, target, chosen_configs(parser, spec, args.config), args)


def campaign(spec, target, names, args) -> int:
    rows = []
    for name in names:
        runner = Runner(target, via=args.via)
        suite = load_suite(default_suite_dir() / f"{name}.json")
        t0 = time.perf_counter()
        results = [runner.run_case(c) for c in suite.cases]
        suite_s = time.perf_counter() - t0
        failed = [r.case_id for r in results if not r.passed]
        lr = run_lockstep(spec, name, target, examples=args.runs, seed=args.seed, via=args.via)
        row = {"config": name, "fuse": args.fuse, "via": args.via, "cases": len(results), "cases_failed": failed[:5], "walked": bool(runner.observer.walks),
               "suite_s": round(suite_s, 1), "lockstep_passed": lr.passed, "runs": lr.examples, "steps": lr.steps,
               "lockstep_s": round(lr.seconds, 1), "steps_per_s": round(lr.steps / lr.seconds) if lr.seconds else None}
        rows.append(row)
        if not args.json:
            print(f"{name:18} cases {len(results) - len(failed)}/{len(results)} in {row['suite_s']} s; lockstep "
                  f"{'PASS' if lr.passed else 'FAIL'} {lr.examples} runs {lr.steps} steps {row['lockstep_s']} s "
                  f"({row['steps_per_s']} steps/s)", flush=True)
    ok = all(not r["cases_failed"] and r["lockstep_passed"] and r["walked"] for r in rows)
    if args.json:
        print(json.dumps({"ok": ok, "configs": rows}, indent=2))
    else:
        print("all passed" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
