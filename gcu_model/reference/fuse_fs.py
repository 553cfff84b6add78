"""The reference host as a live FUSE filesystem (issue 5): `gcu-model serve-sysfs MOUNT`.

Under MOUNT the host's sysfs appears as on a real machine (MOUNT/sys/bus/pci/...): plain
`cat` reads a file, `echo V > file` writes it, and a refused write fails with the errno
the spec gives, through the kernel, as on a real host. One extra folder, MOUNT/gcu-model,
is the side door for what is not a file: write a configuration name to `reset` (a fresh
host; optionally followed by a JSON object choosing the initial state, as the adapter
protocol's `initial`), read `observe` for the protocol's observation as JSON, write a
command line to `run` (the reference shell runs it; read `run` back for its exit
status and output), an action text to `apply`, or milliseconds to `advance`.

Needs /dev/fuse, libfuse 3 (Debian: fuse3) and mfusepy; `available()` says what is missing.
"""
from __future__ import annotations

import contextlib
import errno
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import threading
import time

from . import visible
from .host import HostError
from .shell import Shell
from .sysfs import Sysfs, SysfsError

CONTROL = "gcu-model"
CONTROL_FILES = ("reset", "run", "apply", "advance", "observe")


def available() -> str | None:
    """None when a mount can work here, else why not."""
    if not os.path.exists("/dev/fuse"):
        return "/dev/fuse does not exist on this machine"
    try:
        import mfusepy  # noqa: F401
    except (ImportError, OSError) as exc:          # mfusepy raises OSError without libfuse
        return f"the FUSE binding cannot load: {exc} (install the Debian package fuse3)"
    return None


class MountError(RuntimeError):
    """The mount did not come up: why, with the server's own words."""


@contextlib.contextmanager
def mounted(point, *args, startup_timeout: float = 60.0):
    """`gcu-model serve-sysfs POINT ARGS...` in a process of its own for the duration of the
    block (MountError when it cannot start). The start-up has its own timeout (a loaded box),
    apart from any step's; the server's messages go to a file, read only if it fails."""
    if not shutil.which("fusermount3"):
        raise MountError("fusermount3 is not installed (Debian: fuse3): it unmounts the tree")
    where, point = point, os.fspath(point)          # yields what it was given (a Path stays one)
    os.makedirs(point, exist_ok=True)
    with tempfile.TemporaryFile("w+") as log:
        server = subprocess.Popen([sys.executable, "-m", "gcu_model", "serve-sysfs", point, *args],
                                  stdout=subprocess.DEVNULL, stderr=log, text=True)
        deadline = time.monotonic() + startup_timeout
        while not os.path.ismount(point):
            if server.poll() is not None or time.monotonic() > deadline:
                exited = server.poll() is not None
                server.kill()
                server.wait()
                log.seek(0)
                said = log.read().strip()
                why = f"the server exited ({said or 'no message'})" if exited else \
                    f"not within {startup_timeout:g} s" + (f" ({said})" if said else "")
                raise MountError(f"the mount at {point} did not come up: {why}")
            time.sleep(0.05)
        try:
            yield where
        finally:
            if subprocess.run(["fusermount3", "-u", point], check=False, capture_output=True).returncode:
                subprocess.run(["fusermount3", "-uz", point], check=False, capture_output=True)   # busy: lazily
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()


def operations(first_host):
    import mfusepy

    class SysfsOperations(mfusepy.Operations):
        use_ns = False

        def __init__(self):
            self._attach(first_host)
            self.mutex = threading.Lock()
            self.last = {name: b"" for name in CONTROL_FILES}
            self.started = time.time()

        def _attach(self, host):
            self.host = host
            self.fs = Sysfs(host)
            self.shell = Shell(host, self.fs)

        def _fail(self, exc: SysfsError):
            raise mfusepy.FuseOSError(getattr(errno, exc.errno, errno.EIO))

        def getattr(self, path, fh=None):
            now = self.started
            base = {"st_uid": os.getuid(), "st_gid": os.getgid(), "st_atime": now, "st_mtime": now,
                    "st_ctime": now}
            if path in ("/", f"/{CONTROL}"):
                return base | {"st_mode": stat.S_IFDIR | 0o755, "st_nlink": 2}
            if path.startswith(f"/{CONTROL}/") and path.rsplit("/", 1)[-1] in CONTROL_FILES:
                size = 1 << 20 if path.endswith("/observe") else 4096       # reads stop at the real end
                return base | {"st_mode": stat.S_IFREG | 0o644, "st_nlink": 1, "st_size": size}
            with self.mutex:
                try:
                    kind, readable, writable = self.fs.mode(path)
                except SysfsError:
                    raise mfusepy.FuseOSError(errno.ENOENT) from None
            if kind == "dir":
                return base | {"st_mode": stat.S_IFDIR | 0o755, "st_nlink": 2}
            perms = (0o444 if readable else 0) | (0o200 if writable else 0)
            return base | {"st_mode": stat.S_IFREG | perms, "st_nlink": 1, "st_size": 4096}

        def readdir(self, path, fh):
            if path == "/":
                with self.mutex:
                    return [".", "..", CONTROL] + self.fs.listdir("/")
            if path == f"/{CONTROL}":
                return [".", "..", *CONTROL_FILES]
            with self.mutex:
                try:
                    return [".", ".."] + self.fs.listdir(path)
                except SysfsError as exc:
                    self._fail(exc)

        def open(self, path, flags):
            return 0

        def truncate(self, path, length, fh=None):
            return 0                                # sysfs files ignore O_TRUNC

        def read(self, path, size, offset, fh):
            name = path.rsplit("/", 1)[-1]
            if path == f"/{CONTROL}/observe":
                import json
                with self.mutex:
                    seen = {"visible": visible.of_host(self.fs, self.shell), **self.host.observation()}
                    data = (json.dumps(seen, sort_keys=True, default=sorted) + "\n").encode()
            elif path.startswith(f"/{CONTROL}/"):
                data = self.last.get(name, b"")
            else:
                with self.mutex:
                    try:
                        data = self.fs.read(path).encode()
                    except SysfsError as exc:
                        self._fail(exc)
            return data[offset:offset + size]

        def write(self, path, data, offset, fh):
            text = data.decode("utf-8", errors="replace")
            with self.mutex:
                if path.startswith(f"/{CONTROL}/"):
                    self._control(path.rsplit("/", 1)[-1], text)
                    return len(data)
                try:
                    self.fs.write(path, text)
                except SysfsError as exc:
                    self._fail(exc)
            return len(data)

        def _control(self, name, text):
            host = self.host
            if name == "reset":
                import json
                from .host import ReferenceHost
                config, _, initial = text.strip().partition(" ")
                try:
                    chosen = json.loads(initial) if initial.strip() else None
                    if chosen is not None and not isinstance(chosen, dict):
                        raise HostError("the initial state is a JSON object: variable label -> value")
                    self._attach(ReferenceHost(host.spec, config, chosen))
                except (HostError, json.JSONDecodeError) as exc:
                    self.last["reset"] = f"error: {exc}\n".encode()
                    raise mfusepy.FuseOSError(errno.EINVAL) from None
                self.last["reset"] = f"{text.strip()}\n".encode()
            elif name == "run":
                r = self.shell.run(text.strip())
                self.last["run"] = f"{r.status}\n{r.stdout}{r.stderr}".encode()
            elif name == "apply":
                try:
                    step = host.apply(text.strip())
                except HostError as exc:
                    self.last["apply"] = f"error: {exc}\n".encode()
                    raise mfusepy.FuseOSError(errno.EINVAL) from None
                outcome = step.outcome
                self.last["apply"] = (b"accepted\n" if step.accepted else
                                      f"refused {outcome.errno}: {getattr(outcome, 'message', '')}\n".encode())
            elif name == "advance":
                try:
                    ms = int(text.strip())
                except ValueError:
                    raise mfusepy.FuseOSError(errno.EINVAL) from None
                fired = host.advance(ms)
                self.last["advance"] = "".join(f"{s.action}\n" for s in fired).encode()
            else:
                raise mfusepy.FuseOSError(errno.EACCES)

        def create(self, path, mode, fi=None):
            raise mfusepy.FuseOSError(errno.EACCES)

        def mkdir(self, path, mode):
            raise mfusepy.FuseOSError(errno.EACCES)

        def unlink(self, path):
            raise mfusepy.FuseOSError(errno.EACCES)

    return SysfsOperations()


def serve(host, mountpoint: str) -> None:
    """Mount and serve until unmounted (fusermount3 -u MOUNT) or interrupted."""
    import mfusepy
    mfusepy.FUSE(operations(host), mountpoint, foreground=True, nothreads=True, direct_io=True)
