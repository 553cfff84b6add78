"""`gcu-model export NAME --format promela`: a configuration as a model for another checker
(issue 8, item 3: SPIN cross-checks the explorer's state count)."""
from __future__ import annotations

from pathlib import Path

import click

from .common import UsageProblem, load, pick_configs, specs_option


@click.command("export")
@specs_option
@click.argument("name")
@click.option("--format", "fmt", type=click.Choice(["promela"]), required=True, help="The model language.")
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write here (default: standard output).")
@click.option("--invariants/--no-invariants", "with_invariants", default=True, show_default=True,
              help="Assert every invariant after every step (SPIN then checks them too).")
def export_cmd(specs_dir, name, fmt, output, with_invariants):
    """Write configuration NAME as a model another checker runs (Promela for SPIN)."""
    from ..core.system import System
    from ..explore.promela import NotExpressible, export
    spec = load(specs_dir)
    pick_configs(spec, [name])
    try:
        source, extra = export(System(spec, name), with_invariants=with_invariants)
    except NotExpressible as exc:
        raise UsageProblem(f"{name} cannot be written as Promela: {exc}") from None
    if output is None:
        click.echo(source, nl=False)
        return
    try:
        output.write_text(source, encoding="utf-8")
    except OSError as exc:
        raise UsageProblem(f"cannot write {output}: {exc.strerror}") from None
    click.echo(f"wrote {output}: SPIN stores {extra} state(s) more than the explorer "
               "(the start state before the initial choice)" if extra else f"wrote {output}", err=True)
