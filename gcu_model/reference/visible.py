"""What a user of a host can see, as one flat observation: the text of every readable file
under /sys (sysfs and debugfs), which files exist, the device nodes under /dev, and the
modules `lsmod` lists with their use counts. Conformance compares this by default; the
model's own variables are an opt-in for in-house targets (docs/conformance.md).

One definition, two ways to take it: `of_host` reads the reference host's tree directly;
`through_surface` walks any target through the adapter protocol's `list`, `read` and
`run` (lsmod, ps) alone, as a driver on a real host would be walked. Both give the same dict
(tests/test_visible.py).

Keys: a file's absolute path (its text, or WRITE_ONLY for a file that takes writes only),
`/dev` (the sorted node names), `lsmod` (one `NAME USED [BY,...]` line a module, sorted;
the size column is left out: the guide fixes none), `ps` (the COMMAND of every process of
`ps -aux` whose line names gcu and is a kernel thread, sorted, as §10.2's `ps -aux | grep
gcu`: the KMD's threads. The user's own programs holding a node are left out: which
programs a user runs is not the driver's doing).
"""
from __future__ import annotations

from .sysfs import SysfsError

WRITE_ONLY = "(write-only)"
ROOTS = ("/sys",)
DEV = "/dev"
LSMOD = "lsmod"
PS = "ps"


def is_visible(key: str) -> bool:
    """A key of the visible observation (the rest are the model's own labels)."""
    return key.startswith("/") or key in (LSMOD, PS)


def processes(ps_text: str) -> list:
    """ps -aux's output -> the COMMAND of each kernel thread ([name]) whose line names gcu, sorted."""
    out = []
    for line in ps_text.splitlines()[1:]:
        words = line.split(None, 10)
        if len(words) == 11 and "gcu" in line and words[10].startswith("["):
            out.append(words[10])
    return sorted(out)


def modules(lsmod_text: str) -> list:
    """lsmod's output -> ['enflame 1 enflame_peermem', ...]: name, use count, users."""
    out = []
    for line in lsmod_text.splitlines()[1:]:
        words = line.split()
        if len(words) >= 3:
            out.append(" ".join([words[0], words[2]] + ([words[3]] if len(words) > 3 else [])))
    return sorted(out)


def of_host(fs, shell) -> dict:
    """The reference host's observation, read from its tree and its lsmod."""
    out = {}
    dev = []
    for path, (reader, _) in fs.snapshot().items():
        if path.startswith(DEV + "/"):
            dev.append(path[len(DEV) + 1:])
        elif path.startswith(ROOTS):
            out[path] = _read(reader) if reader is not None else WRITE_ONLY
    out[DEV] = sorted(dev)
    out[LSMOD] = modules(shell.run_argv(["lsmod"]).stdout)
    out[PS] = processes(shell.run_argv(["ps", "-aux"]).stdout)
    return out


def _read(reader):
    try:
        return reader()
    except SysfsError as exc:
        return f"(read error {exc.errno})"


class SurfaceError(Exception):
    """The target answered a walk request with something that is not the protocol."""


def through_surface(request) -> dict:
    """The same observation, walked through protocol requests (`request(dict) -> dict`):
    `list` every directory under /sys, `read` every file, `list /dev`, `run lsmod`, `run ps -aux`."""
    out: dict = {}

    def result(reply, what):
        if not reply.get("ok") or not isinstance(reply.get("result"), dict):
            raise SurfaceError(f"{what}: {reply.get('error', 'not answered')}")
        return reply["result"]

    def walk(path):
        listed = result(request({"op": "list", "path": path}), f"list {path}")
        if not listed.get("accepted"):
            return False
        for name in listed.get("entries", []):
            child = f"{path.rstrip('/')}/{name}"
            if walk(child):
                continue
            got = result(request({"op": "read", "path": child}), f"read {child}")
            if got.get("accepted"):
                out[child] = got.get("text", "")
            elif got.get("errno") == "EACCES":
                out[child] = WRITE_ONLY
            else:
                out[child] = f"(read error {got.get('errno')})"
        return True

    for root in ROOTS:
        walk(root)
    dev = result(request({"op": "list", "path": DEV}), f"list {DEV}")
    out[DEV] = sorted(dev.get("entries", [])) if dev.get("accepted") else []
    for key, command, parse in ((LSMOD, "lsmod", modules), (PS, "ps -aux", processes)):
        ran = request({"op": "run", "command": command})
        if not ran.get("ok"):
            raise SurfaceError(f"run {command}: {ran.get('error', 'not answered')}")
        out[key] = parse(ran.get("stdout", ""))
    return out
