"""`gcu-model serve --stdio`: the reference host over the adapter protocol (issue 5)."""
from __future__ import annotations

import sys

import click

from .common import UsageProblem, load, specs_option


@click.command("serve")
@specs_option
@click.option("--stdio", is_flag=True, help="Speak the adapter protocol (JSON lines) on stdin and stdout.")
@click.option("--config", "config", default=None, metavar="NAME",
              help="Start with this configuration (else the client sends a reset).")
def serve_cmd(specs_dir, stdio, config):
    """Serve the reference host to a conformance driver or any other tool."""
    from ..reference.protocol import serve
    if not stdio:
        raise UsageProblem("say how to serve: --stdio (JSON lines; see docs/adapter-protocol.md)")
    spec = load(specs_dir)
    if config is not None and config not in spec.configs:
        from .common import pick_configs
        pick_configs(spec, [config])
    serve(spec, config, sys.stdin, sys.stdout)
