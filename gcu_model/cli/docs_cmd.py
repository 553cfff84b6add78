"""`gcu-model docs`: write the generated pages, or check that the committed ones are current.

design.md "Layout": docs/ holds generated pages and CI checks they are up to date; the
pages come from the spec alone ("One source of truth"). Exit status as every command:
0 up to date (or written), 1 `--check` found a page that differs, is missing or is
stale, 2 bad input (a malformed spec, an --out that is not a directory, a write that
fails), one line and no traceback.

Registered in cli/main.py with `cli.add_command(docs_cmd)`; this module imports from
main, so that line must come after main's definitions (e.g. at its end).
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from ..docs.generate import compare, generate, write
from .common import EXIT_FAILED, UsageProblem, load, specs_option


@specs_option
@click.option("--out", "out_dir", type=click.Path(path_type=Path), default=Path("docs/generated"),
              show_default=True, help="Directory of the generated pages.")
@click.option("--check", "check_only", is_flag=True,
              help="Write nothing; exit 1 when the pages on disk are not what the spec generates.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def _docs(specs_dir, out_dir, check_only, as_json):
    """Generate docs/generated/*.md from the spec (assumptions, traceability, machines, configs)."""
    if out_dir.exists() and not out_dir.is_dir():
        raise UsageProblem(f"--out {out_dir} is not a directory")
    spec = load(specs_dir)
    pages = generate(spec)
    if check_only:
        _report_check(out_dir, pages, _checked(pages, out_dir), as_json)
    else:
        _report_write(out_dir, _written(pages, out_dir), as_json)


docs_cmd = click.command("docs")(_docs)


def _checked(pages, out_dir):
    try:
        return compare(pages, out_dir)
    except OSError as exc:
        raise UsageProblem(f"cannot read {exc.filename or out_dir}: {exc.strerror}") from None


def _written(pages, out_dir):
    try:
        return write(pages, out_dir)
    except OSError as exc:
        raise UsageProblem(f"cannot write {exc.filename or out_dir}: {exc.strerror}") from None


def _report_check(out_dir, pages, problems, as_json):
    if as_json:
        status = dict.fromkeys(pages, "current") | dict(problems)
        click.echo(json.dumps({"out": str(out_dir), "check": True, "ok": not problems,
                               "pages": [{"page": n, "status": s} for n, s in status.items()]}, indent=2))
    elif problems:
        for name, status in problems:
            click.echo(f"{status}: {out_dir / name}")
        click.echo("run `gcu-model docs` to regenerate")
    else:
        click.echo(f"up to date: {out_dir}")
    if problems:
        sys.exit(EXIT_FAILED)


def _report_write(out_dir, done, as_json):
    if as_json:
        click.echo(json.dumps({"out": str(out_dir), "check": False, "ok": True,
                               "pages": [{"page": n, "status": s} for n, s in done]}, indent=2))
        return
    for name, status in done:
        click.echo(f"{status}: {out_dir / name}")
