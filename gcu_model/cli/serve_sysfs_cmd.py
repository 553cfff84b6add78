"""`gcu-model serve-sysfs MOUNTPOINT`: the reference host as a live FUSE filesystem."""
from __future__ import annotations

import os

import click

from .common import UsageProblem, load, specs_option


@click.command("serve-sysfs")
@specs_option
@click.argument("mountpoint", type=click.Path(file_okay=False))
@click.option("--config", "config", default="t20-asic", show_default=True, metavar="NAME",
              help="The configuration the host runs.")
def serve_sysfs_cmd(specs_dir, mountpoint, config):
    """Mount the reference host's sysfs at MOUNTPOINT (cat and echo work; refused writes fail with errno)."""
    from ..reference.fuse_fs import available, serve
    from ..reference.host import ReferenceHost
    from .common import pick_configs
    why = available()
    if why is not None:
        raise UsageProblem(f"cannot serve over FUSE: {why}")
    if not os.path.isdir(mountpoint):
        raise UsageProblem(f"{mountpoint} is not a directory")
    spec = load(specs_dir)
    pick_configs(spec, [config])
    host = ReferenceHost(spec, config)
    click.echo(f"serving {config} at {mountpoint}; unmount with: fusermount3 -u {mountpoint}", err=True)
    try:
        serve(host, mountpoint)
    except RuntimeError as exc:
        raise UsageProblem(f"cannot mount {mountpoint}: {exc}") from None
