"""What every gcu-model command shares: exit codes, --specs, and the usage error."""
from __future__ import annotations

from pathlib import Path

import click

from ..spec.errors import InvalidSpec
from ..spec.loader import load_spec

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


class UsageProblem(click.ClickException):
    exit_code = EXIT_USAGE

    def show(self, file=None):
        click.echo(f"gcu-model: error: {self.format_message()}", err=True)


def specs_option(fn):
    return click.option("--specs", "specs_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
                        help="Read this spec tree instead of the embedded one.")(fn)


def load(specs_dir):
    try:
        return load_spec(specs_dir)
    except InvalidSpec as exc:
        raise UsageProblem(f"invalid spec: {exc}") from None


def pick_configs(spec, names, composed_too: bool = False):
    """The configurations named (all without names); an unknown name is a usage error that
    lists the known ones (and the composed hosts, where the command takes them)."""
    if not names:
        return list(spec.configs)
    known = list(spec.configs) + (list(spec.composed) if composed_too else [])
    for name in names:
        if name in spec.composed and not composed_too:
            raise UsageProblem(f"'{name}' is a composed host, too big to explore whole; `gcu-model check "
                               f"--config {name}` checks it in parts (its base: {spec.composed[name].base})")
        if name not in spec.configs:
            import difflib
            close = difflib.get_close_matches(name, known, n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            raise UsageProblem(f"unknown configuration '{name}'{hint}; known: {', '.join(known)}")
    return list(dict.fromkeys(names))


def system_for(spec, name):
    from ..core.system import System
    try:
        return System(spec, spec.configs[name])
    except InvalidSpec as exc:
        raise UsageProblem(f"invalid spec: {exc}") from None
