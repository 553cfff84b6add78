"""An action of the model written back as a runbook line, in the context of a playing host
(issue 7): device nodes by the KMD's current numbering, PCI addresses, container and VM
names the shell knows, job numbers of background programs.

`render(action, player)` returns the line, or None when the action has no command form
(an ioctl issued by a program, say); the caller then writes `# @action ACTION`. Every
line given here is checked by the tests to play back as exactly that action.
"""
from __future__ import annotations

from ..core.outcome import Action
from ..shell.commands import CommandError, bdf
from ..shell.commands import render as render_setup



def render(action: str, player) -> str | None:
    parsed = Action.parse(action)
    name, p = parsed.name, parsed.kwargs
    host, shell = player.host, player.shell
    fs = shell.fs
    labels = host.system.layout.labels
    # the action's instances by role (families.yaml `role:`), whatever its parameters are called
    pf, vf, vm = (host.roles.arg(parsed, role) for role in ("pf", "vf", "vm"))

    def address(label):
        for addr, (_, inst) in fs.devices().items():
            if inst.label == label:
                return addr
        return bdf(labels[label].index) if label in labels and host.roles.role(labels[label]) == "pf" else None

    def job_for(closing):
        return next((k for k, (_, closed, _) in sorted(shell.jobs.items()) if closed == closing), None)

    # a name a stopped instance keeps (surface.yaml kept:) is freed before a line gives it anew
    gives = any(f.action == name and f.gives for f in host.spec.commands.forms)
    frees = [kept for label in parsed.kwargs.values() for kept in shell.kept_names(label)] if gives else []
    try:
        line = render_setup(action, player.spec, shell.names_now(tuple(n for n, _ in frees)))
        return " ; ".join([*(free for _, free in frees), line])      # specs/commands.yaml
    except CommandError:
        pass
    if any(f.ends is not None and f.ends[0] == name for f in host.spec.commands.forms):
        job = job_for(str(action))                 # the end of a background program: kill it
        return f"kill %{job}" if job else None
    line = fs.write_line(name, p)                  # a sysfs write (specs/surface.yaml), a device name's too
    if line is not None:
        return line
    timed = host.spec.actions[name].timed
    if timed is not None:                           # time brings it: what is left of its timer
        left = host.time_left_ms(name, p[timed.instance])
        same = all(p.get(k) == v for k, v in host.timed_choice(name).items())
        return f"# @wait {left}" if left is not None and same else None
    if name in ("ras_vf_only", "ras_card"):        # a fault of a device on the bus
        label = vf or pf
        where = next((a for a, (_, inst) in fs.devices().items() if inst.label == label), None)
        return f"# @ras {_block(host, p.get('ip', 'vf_only'))} {where}" if where else None
    if name in ("read_register", "write_register"):
        secured = host.device.secured[labels[pf].index]    # FW-2: the card's own
        offset = secured[0][0] if p["secured"] == "true" and secured else 0x2000
        where = f"/sys/bus/pci/devices/{address(pf)}/resource0 {offset:#x}"
        if p["secured"] == "true" and not secured:
            return None
        return f"pcimem {where}" + (" w 0x1" if name == "write_register" else "")
    if name == "write_bar":
        return f"[{vm}] pcimem /sys/bus/pci/devices/0000:00:05.0/resource{p['bar']} 0x10 w 0x1"
    return None


def _block(host, ip_class) -> str:
    """The first IP block of a resource class (SRIOV-4), for a @ras line."""
    blocks = host.spec.device.get("ip_blocks", {})
    return next(b for b, c in blocks.items() if c == ip_class)
