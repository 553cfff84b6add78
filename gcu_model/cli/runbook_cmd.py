"""`gcu-model run | lint | plan | shell | trace`: runbooks in the guide's own language,
played and checked on the reference host (issue 7)."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from .common import EXIT_FAILED, UsageProblem, load, specs_option


def _config(spec, runbook, config):
    from .common import pick_configs
    name = config or (runbook.config if runbook else None)
    if name is None:
        raise UsageProblem("say which configuration: --config NAME, or '# @config NAME' in the runbook")
    pick_configs(spec, [name])
    return name


def _read(path):
    from ..runbook.parse import RunbookError, read_runbook
    try:
        return read_runbook(path)
    except RunbookError as exc:
        raise UsageProblem(str(exc)) from None


def _initial(pairs):
    out = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep:
            raise UsageProblem(f"--initial wants VARIABLE=VALUE (e.g. card0.fw=on), not '{pair}'")
        out[key] = value
    return out


def _player(spec, name, initial):
    from ..reference.host import HostError
    from ..runbook.play import Player
    try:
        return Player(spec, name, initial)
    except HostError as exc:
        raise UsageProblem(str(exc)) from None


initial_option = click.option("--initial", "initial", multiple=True, metavar="VAR=VALUE",
                              help="Pick the initial state (e.g. host.sig_enforced=true); repeatable.")


@click.command("run")
@specs_option
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--config", default=None, metavar="NAME", help="Embedded configuration (else '# @config').")
@initial_option
def run_cmd(specs_dir, file, config, initial):
    """Play a runbook on the reference host and print it like a terminal session."""
    spec = load(specs_dir)
    runbook = _read(file)
    player = _player(spec, _config(spec, runbook, config), _initial(initial))
    worst = 0
    for line in runbook.lines:
        played = player.play(line)
        click.echo(f"{'#' if line.kind != 'command' else '$'} {line.text.lstrip('# ')}")
        if played.stdout:
            click.echo(played.stdout, nl=False)
        if played.stderr:
            click.echo(played.stderr, nl=False, err=False)
        if played.verdict in ("refused", "failed", "error"):
            worst = max(worst, 2 if played.verdict == "error" else 1)
    sys.exit(worst)


@click.command("lint")
@specs_option
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--config", default=None, metavar="NAME", help="Embedded configuration (else '# @config').")
@initial_option
@click.option("--no-fix", is_flag=True, help="Do not search for fixes (faster).")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def lint_cmd(specs_dir, file, config, initial, no_fix, as_json):
    """A verdict per line: legal, or refused with errno, requirement IDs, guide sections and a fix."""
    from ..runbook.lint import lint
    spec = load(specs_dir)
    runbook = _read(file)
    name = _config(spec, runbook, config)
    _player(spec, name, _initial(initial))                     # a bad --initial is a usage error
    verdicts = lint(spec, runbook.lines, name, _initial(initial), with_fix=not no_fix)
    refused = any(v.verdict == "refused" for v in verdicts)
    errors = [v for v in verdicts if v.verdict == "error"]
    unmet = [v for v in verdicts if not v.meets_expectation]
    if as_json:
        click.echo(json.dumps({"file": str(file), "config": name, "ok": not refused and not errors,
                               "expectations_met": not unmet, "lines": [v.as_dict() for v in verdicts]}, indent=2))
    else:
        for v in verdicts:
            mark = {"legal": "ok", "refused": "REFUSED", "failed": "failed", "error": "ERROR"}[v.verdict]
            click.echo(f"{file}:{v.number}: {mark}: {v.text}")
            if v.verdict == "refused":
                click.echo(f"    {v.errno}: {v.message}")
                click.echo(f"    forbidden by {', '.join(v.reqs) or '(no requirement named)'}"
                           + (f" (guide § {', '.join(v.sections)})" if v.sections else ""))
                if v.fix is not None:
                    click.echo("    fix: first run" if v.fix else "    fix: (none needed here)")
                    for line in v.fix:
                        click.echo(f"        {line}")
                elif v.fix_note:
                    click.echo(f"    no fix: {v.fix_note}")
            elif v.verdict in ("failed", "error") and v.message:
                click.echo(f"    {v.message}")
            if not v.meets_expectation:
                click.echo(f"    expected: {' '.join(x for x in v.expected if x)}")
    if errors:
        sys.exit(2)
    if refused:
        sys.exit(EXIT_FAILED)


@click.command("plan")
@specs_option
@click.option("--config", default=None, metavar="NAME", help="Embedded configuration (else '# @config' of --from).")
@click.option("--from", "from_file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Start from the state after this runbook.")
@click.option("--goal", required=True, metavar="COMMAND", help="The command line to make legal.")
@initial_option
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def plan_cmd(specs_dir, config, from_file, goal, initial, as_json):
    """The shortest legal sequence of commands after which GOAL is accepted."""
    from ..runbook.fix import NoFix, fix_lines
    from ..runbook.parse import RunbookError, parse_runbook
    spec = load(specs_dir)
    runbook = _read(from_file) if from_file else None
    name = _config(spec, runbook, config)
    player = _player(spec, name, _initial(initial))
    for line in (runbook.lines if runbook else []):
        player.play(line)
    try:
        goal_lines = parse_runbook(goal).lines
    except RunbookError as exc:
        raise UsageProblem(str(exc)) from None
    if len(goal_lines) != 1:
        raise UsageProblem("--goal is one command line")
    action = _action_of(player, goal_lines[0])
    try:
        lines, reason = fix_lines(player, action), None
    except NoFix as exc:
        lines, reason = None, str(exc)
    if as_json:
        click.echo(json.dumps({"config": name, "from": str(from_file) if from_file else None, "goal": goal,
                               "action": action, "ok": lines is not None, "plan": lines, "reason": reason},
                              indent=2))
    elif lines is None:
        click.echo(f"no plan: {reason}")
    else:
        for line in lines:
            click.echo(line)
        click.echo(goal)
    if lines is None:
        sys.exit(EXIT_FAILED)


def _action_of(player, line):
    from ..runbook.fix import NoFix, goal_action
    try:
        return goal_action(player, line)
    except NoFix as exc:
        raise UsageProblem(f"--goal: {exc}") from None


@click.command("shell")
@specs_option
@click.option("--config", required=True, metavar="NAME", help="Embedded configuration.")
@initial_option
def shell_cmd(specs_dir, config, initial):
    """An interactive simulated host: type the guide's commands, see what the driver does."""
    from ..runbook.parse import RunbookError, parse_runbook
    spec = load(specs_dir)
    player = _player(spec, _config(spec, None, config), _initial(initial))
    interactive = sys.stdin.isatty()
    history = Path.home() / ".gcu_model_history"
    readline = None
    if interactive:
        try:
            import readline                     # line editing, and history kept across sessions
            readline.read_history_file(history)
        except ImportError:
            readline = None
        except OSError:
            pass
        click.echo(f"gcu-model shell on {config} (reference host). Commands as in the guide; "
                   "'# @wait MS', '# @ras IP BDF', 'exit' to leave.")
    while True:
        try:
            text = input(f"root@{config}:~# " if interactive else "")
        except EOFError:
            break
        if text.strip() in ("exit", "logout"):
            break
        if readline is not None:
            try:
                readline.write_history_file(history)
            except OSError:
                pass
        try:
            lines = parse_runbook(text).lines
        except RunbookError as exc:
            click.echo(str(exc).replace("<runbook>:1: ", ""), err=True)
            continue
        for line in lines:
            played = player.play(line)
            if played.stdout:
                click.echo(played.stdout, nl=False)
            if played.stderr:
                click.echo(played.stderr, nl=False, err=True)


@click.command("trace")
@specs_option
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--config", default=None, metavar="NAME", help="Configuration (else the log's reset line).")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def trace_cmd(specs_dir, file, config, as_json):
    """Check a recorded run (JSON lines of the adapter protocol) against the model."""
    from ..runbook.trace import TraceError, check_trace
    spec = load(specs_dir)
    try:
        result = check_trace(spec, file, config)
    except TraceError as exc:
        raise UsageProblem(str(exc)) from None
    if as_json:
        click.echo(json.dumps(result, indent=2))
    elif result["ok"]:
        click.echo(f"{file}: {result['steps']} steps, every one as the model allows ({result['config']})")
    else:
        f = result["first_divergence"]
        click.echo(f"{file}:{f['line']}: step {f['step']} {f['action']}: {f['problem']}")
        click.echo(f"    recorded: {json.dumps(f['recorded'])}")
        click.echo(f"    model:    {json.dumps(f['model'])}")
    if not result["ok"]:
        sys.exit(EXIT_FAILED)
