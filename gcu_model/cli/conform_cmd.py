"""`gcu-model conform`: run the generated suites, or lockstep property tests, against a
target (issue 6)."""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import click

from .common import EXIT_FAILED, UsageProblem, load, specs_option


@click.command("conform")
@specs_option
@click.option("--target", "target_desc", required=True, metavar="TARGET",
              help="reference, python:MODULE:FACTORY, exec:COMMAND or sysfs:ROOT.")
@click.option("--suite", "suites", multiple=True, type=click.Path(path_type=Path), metavar="PATH",
              help="Suite file or directory (repeatable; default: conformance/suites).")
@click.option("--config", "config_names", multiple=True, metavar="NAME",
              help="Only these configurations (repeatable).")
@click.option("--explore", "examples", type=click.IntRange(min=1), default=None, metavar="N",
              help="Instead of the suites, run N lockstep property-test examples per configuration.")
@click.option("--steps", "max_steps", type=click.IntRange(min=1), default=30, show_default=True,
              help="Lockstep: at most this many steps per example.")
@click.option("--seed", type=int, default=None, help="Lockstep: a fixed seed (reproducible runs).")
@click.option("--timeout", type=click.FloatRange(min=0.1), default=10.0, show_default=True,
              help="Seconds an exec: target may take to answer one request.")
@click.option("--model", "model", is_flag=True,
              help="Compare the model's own variables too (in-house targets that expose them); by default "
                   "only what a user sees is compared: files, /dev, lsmod, outcomes.")
@click.option("--via", type=click.Choice(["apply", "surface"]), default="apply", show_default=True,
              help="Send each step as its action (apply), or as the guide's command where one is exactly "
                   "that action (surface: a sysfs write, a shell line), apply only where there is none: the "
                   "suites' steps, lockstep's and the replays'.")
@click.option("--replay", "replay_text", default=None, metavar="JSON|FILE",
              help="Replay one sequence ({\"config\", \"initial\", \"actions\"}, as a failure prints it) "
                   "against the reference host, step by step.")
@click.option("--junit", "junit_file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write JUnit XML here.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option("-v", "--verbose", is_flag=True, help="List every case, passed ones too.")
def conform_cmd(specs_dir, target_desc, suites, config_names, examples, max_steps, seed, timeout, model,
                via, replay_text, junit_file, as_json, verbose):
    """Check a target against the model: every case of the suites, or random lockstep runs."""
    from ..adapters.targets import TargetError, UsageError, open_target
    spec = load(specs_dir)
    try:
        target = open_target(target_desc, spec, timeout=timeout)
    except UsageError as exc:
        raise UsageProblem(str(exc)) from None
    except TargetError as exc:
        raise UsageProblem(f"target {target_desc}: {exc}") from None
    if replay_text is not None and examples is not None:
        target.close()
        raise UsageProblem("--replay and --explore exclude each other")
    invocation = _Invocation(target_desc, specs_dir, model, via)
    try:
        if replay_text is not None:
            ok = _replay(spec, target, _replay_request(replay_text, spec), invocation, as_json)
        elif examples is not None:
            from .common import pick_configs
            names = pick_configs(spec, config_names)
            ok = _lockstep(spec, target, names, examples, max_steps, seed, invocation, as_json)
        else:
            ok = _suites(spec, target, suites, config_names, junit_file, invocation, as_json, verbose)
    finally:
        target.close()
    if not ok:
        sys.exit(EXIT_FAILED)


class _Invocation:
    """How this run was asked for, to print the command that replays a failure."""

    def __init__(self, target_desc, specs_dir, model, via="apply"):
        self.target_desc, self.specs_dir, self.model, self.via = target_desc, specs_dir, model, via

    def replay_command(self, result) -> str:
        import shlex
        request = {"config": result.config, "initial": result.choose, "actions": result.prefix}
        words = ["gcu-model", "conform", "--target", self.target_desc]
        if self.specs_dir is not None:
            words += ["--specs", str(self.specs_dir)]
        if self.model:
            words.append("--model")
        if self.via != "apply":
            words += ["--via", self.via]
        return shlex.join(words + ["--replay", json.dumps(request)])


def _replay_request(text, spec) -> dict:
    """--replay: inline JSON or a file holding it -> {config, initial, actions}, checked."""
    source = "--replay"
    if not text.lstrip().startswith("{"):
        try:
            text, source = Path(text).read_text(encoding="utf-8"), text
        except OSError as exc:
            raise UsageProblem(f"--replay: {text}: {exc.strerror}") from None
        except UnicodeDecodeError:
            raise UsageProblem(f"--replay: {text}: not UTF-8 text") from None
    try:
        request = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UsageProblem(f"{source}: not JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})") from None
    if isinstance(request, dict) and "replay" in request and isinstance(request["replay"], dict):
        request = request["replay"]                   # a whole failure, as --json prints it
    if not isinstance(request, dict) or not isinstance(request.get("config"), str) \
            or not isinstance(request.get("actions"), list) \
            or not all(isinstance(a, str) for a in request["actions"]) \
            or not isinstance(request.get("initial", {}), dict):
        raise UsageProblem(f"{source}: expected {{\"config\": NAME, \"initial\": {{...}}, \"actions\": [TEXT, ...]}}")
    if request["config"] not in spec.configs:
        raise UsageProblem(f"{source}: unknown configuration '{request['config']}'")
    return {"config": request["config"], "initial": request.get("initial", {}), "actions": request["actions"]}


def _replay(spec, target, request, invocation, as_json) -> bool:
    from ..conform.lockstep import comparer, replay
    from ..conform.runner import describe_failure
    from ..reference.host import HostError
    try:
        result = replay(comparer(spec, request["config"], target, invocation.model, invocation.via),
                        request["config"], request["initial"], request["actions"])
    except HostError as exc:
        raise UsageProblem(f"--replay: {exc}") from None
    if as_json:
        click.echo(json.dumps({"target": target.name, "ok": result is None, "steps": len(request["actions"]),
                               **({"failure": result.as_dict()["failure"]} if result else {})}, indent=2))
    elif result is None:
        click.echo(f"PASS {request['config']}: {len(request['actions'])} steps agree with the reference host")
    else:
        click.echo(describe_failure(result))
    return result is None


def _suites(spec, target, suites, config_names, junit_file, invocation, as_json, verbose) -> bool:
    from ..conform import default_suite_dir
    from ..conform.runner import Runner, describe_failure, junit_xml, requirement_table
    from ..conform.suite import SuiteError, load_suite, suite_files
    try:
        files = suite_files(suites or [default_suite_dir()])
        loaded = [load_suite(f) for f in files]
    except SuiteError as exc:
        raise UsageProblem(str(exc)) from None
    if config_names:
        unknown = sorted(set(config_names) - {s.config for s in loaded})
        if unknown:
            raise UsageProblem(f"no suite for configuration '{unknown[0]}'; suites: "
                               f"{', '.join(s.config for s in loaded)}")
        loaded = [s for s in loaded if s.config in config_names]
    for s in loaded:
        if s.config not in spec.configs:
            raise UsageProblem(f"{s.path}: configuration '{s.config}' is not in the spec")
    runner = Runner(target, model=invocation.model, via=invocation.via)
    results, per_config = [], []
    start = time.perf_counter()
    progress = _progress(sum(len(s.cases) for s in loaded), quiet=as_json)
    for s in loaded:
        t0 = time.perf_counter()
        rs = []
        for case in s.cases:
            rs.append(runner.run_case(case))
            progress.advance()
        results.extend(rs)
        per_config.append({"config": s.config, "file": str(s.path), "cases": len(rs),
                           "passed": sum(r.passed for r in rs), "failed": sum(not r.passed for r in rs),
                           "steps": sum(r.steps for r in rs), "seconds": round(time.perf_counter() - t0, 3)})
    progress.stop()
    seconds = time.perf_counter() - start
    table = requirement_table(results)
    ok = all(r.passed for r in results)
    if junit_file is not None:
        junit_file.write_text(junit_xml(results, target.name), encoding="utf-8")
    if as_json:
        click.echo(json.dumps({"target": target.name, "ok": ok, "seconds": round(seconds, 3),
                               "observations_compared": bool(runner.can_observe),
                               "via": invocation.via, "steps_by_command": runner.by_surface,
                               "steps_by_action": runner.by_action,
                               "configs": per_config, "requirements": table,
                               "cases": [r.as_dict() for r in results]}, indent=2))
        return ok
    from rich.console import Console
    from rich.table import Table
    console = Console()
    if runner.can_observe is False:
        console.print(f"[yellow]note:[/] {target.name} can be observed neither by observe nor through its "
                      f"surface ({runner.observe_note}); only outcomes were compared")
    elif runner.observer.walks:
        console.print(f"note: {target.name} does not answer observe; its surface was walked (list, read, "
                      "run lsmod) after every step", markup=False)
    if invocation.via == "surface":
        console.print(f"via the surface: {runner.by_surface} steps sent as the guide's command, "
                      f"{runner.by_action} as their action (no command form)", markup=False)
    if verbose:
        for r in results:
            console.print(f"{'PASS' if r.passed else 'FAIL'} {r.case_id} ({r.steps} steps)", markup=False)
    t = Table(title=f"conformance of {target.name}")
    for col in ("config", "cases", "passed", "failed", "steps", "s"):
        t.add_column(col, justify="left" if col == "config" else "right")
    for row in per_config:
        t.add_row(row["config"], str(row["cases"]), str(row["passed"]),
                  f"[red]{row['failed']}[/]" if row["failed"] else "0", str(row["steps"]), f"{row['seconds']:.2f}")
    console.print(t)
    rt = Table(title="by requirement")
    for col in ("requirement", "cases", "passed", "failed"):
        rt.add_column(col, justify="left" if col == "requirement" else "right")
    for req, row in table.items():
        rt.add_row(req, str(row["cases"]), str(row["passed"]), f"[red]{row['failed']}[/]" if row["failed"] else "0")
    console.print(rt)
    shrunk = _shrunk_failures(spec, target, results, invocation.model, invocation.via)
    for r in results:
        if not r.passed:
            click.echo(describe_failure(r))
            small = shrunk.get(r.case_id)
            if small is not None and len(small.prefix) < len(r.prefix):
                click.echo(f"  shrunk to {len(small.prefix)} of its {len(r.prefix)} steps:")
                click.echo("\n".join(f"    {n}. {a}" for n, a in enumerate(small.prefix, 1)))
                click.echo(f"  replay: {invocation.replay_command(small)}")
            else:
                click.echo(f"  replay: {invocation.replay_command(r)}")
    failed = sum(not r.passed for r in results)
    console.print(f"{len(results) - failed} of {len(results)} cases passed in {seconds:.1f} s", markup=False)
    return ok


class _progress:
    """A rich progress bar on a terminal, nothing elsewhere."""

    def __init__(self, total, quiet):
        self.bar = None
        if not quiet and sys.stderr.isatty():
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn
            self.bar = Progress(BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), transient=True,
                                console=Console(stderr=True))
            self.task = self.bar.add_task("cases", total=total)
            self.bar.start()

    def advance(self):
        if self.bar is not None:
            self.bar.advance(self.task)

    def stop(self):
        if self.bar is not None:
            self.bar.stop()


SHRUNK_CASES = 5                # failed suite cases shrunk in one run (each replays many times)


def _shrunk_failures(spec, target, results, model, via="apply") -> dict:
    """case id -> the failed case shrunk by delta debugging against the reference host (the
    first SHRUNK_CASES failures that differ in outcome or observation)."""
    from ..conform.lockstep import comparer, shrink
    out = {}
    for r in results:
        if len(out) >= SHRUNK_CASES:
            break
        if not r.passed and r.divergence.what in ("outcome", "observation"):
            small = shrink(comparer(spec, r.config, target, model, via), r.config, r.choose, r.prefix, budget=400)
            if small is not None:
                out[r.case_id] = small
    return out


def _lockstep(spec, target, names, examples, max_steps, seed, invocation, as_json) -> bool:
    from ..conform.lockstep import run_lockstep
    from ..conform.runner import describe_failure
    results = [run_lockstep(spec, name, target, examples=examples, max_steps=max_steps, seed=seed,
                            model=invocation.model, via=invocation.via) for name in names]
    ok = all(r.passed for r in results)
    if as_json:
        click.echo(json.dumps({"target": target.name, "ok": ok, "lockstep": [r.as_dict() for r in results]},
                              indent=2))
        return ok
    for r in results:
        if r.passed:
            by = f" ({r.by_command} sent as the guide's command)" if r.via == "surface" else ""
            click.echo(f"PASS {r.config}: {r.examples} examples, {r.steps} steps{by}, {r.seconds:.1f} s")
        else:
            click.echo(f"FAIL {r.config}: {r.distinct} distinct divergence(s) in {r.examples} examples, "
                       f"{r.steps} steps" + (f" (the first {len(r.failures)} shown)" if r.distinct > len(r.failures)
                                             else ""))
            for n, failure in enumerate(r.failures, 1):
                click.echo(f"[{n}] shrunk to {len(failure.prefix)} steps")
                click.echo(describe_failure(failure))
                click.echo(f"  replay: {invocation.replay_command(failure)}")
    return ok
