"""Implementations under test, attached through one interface (issue 5).

Every target answers the requests of the adapter protocol (`docs/adapter-protocol.md`)
as dicts: `reset`, `apply`, `read`, `write`, `list`, `run`, `observe`, `advance`. Targets:

- `reference`: the reference host, in process;
- `python:MODULE:FACTORY`: FACTORY() from MODULE returns an object whose
  `handle(request: dict) -> dict` speaks the protocol, in process;
- `exec:COMMAND`: a subprocess speaking the protocol as JSON lines on stdin/stdout;
- `mutant:NAME`: the reference host with the bug of conformance/mutants/NAME.yaml (issue 6);
- `sysfs:ROOT`: file operations under ROOT, a tree laid out like a real host's (ROOT/sys/...):
  `read`, `write`, `list` work anywhere; `reset`, `apply`, `run`, `advance` need the control
  folder ROOT/gcu-model that `gcu-model serve-sysfs` provides (a real host has none).

A target that crashes, hangs or answers garbage raises TargetError naming what happened;
`TargetError.step` is set by the caller. Conformance runs report it as a failure of that
step and go on with the next case (after `restart()`).
"""
from __future__ import annotations

import errno as errno_mod
import importlib
import json
import os
import shlex
import subprocess
import threading
from pathlib import Path


class TargetError(Exception):
    """The implementation crashed, hung or answered something that is not the protocol."""


class UsageError(ValueError):
    """A target description that cannot be understood."""


class Target:
    name = "target"

    def request(self, req: dict) -> dict:
        raise NotImplementedError

    def restart(self) -> None:
        """Bring a failed implementation back for the next case."""

    def close(self) -> None:
        pass


class InProcessTarget(Target):
    def __init__(self, name, handler_factory):
        self.name = name
        self._factory = handler_factory
        self._handler = handler_factory()

    def request(self, req):
        try:
            reply = self._handler.handle(dict(req))
        except Exception as exc:                   # the implementation's own bug, not ours
            raise TargetError(f"{self.name} raised {type(exc).__name__}: {exc}") from None
        if not isinstance(reply, dict) or "ok" not in reply:
            raise TargetError(f"{self.name} answered {reply!r}, not a protocol response")
        return reply

    def restart(self):
        self._handler = self._factory()


class ExecTarget(Target):
    def __init__(self, command: str, timeout: float = 10.0):
        self.name = f"exec:{command}"
        self.command = command
        self.timeout = timeout
        self.proc = None
        self._start()

    def _start(self):
        try:
            self.proc = subprocess.Popen(shlex.split(self.command), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                         stderr=subprocess.PIPE, text=True, bufsize=1)
        except OSError as exc:
            raise TargetError(f"cannot start '{self.command}': {exc.strerror}") from None

    def request(self, req):
        proc = self.proc
        if proc.poll() is not None:
            raise TargetError(f"the implementation exited with status {proc.returncode}")
        try:
            proc.stdin.write(json.dumps(req) + "\n")
            proc.stdin.flush()
        except (BrokenPipeError, OSError):
            raise TargetError(f"the implementation closed its input (exit status {proc.poll()})") from None
        line = _read_line(proc.stdout, self.timeout)
        if line is None:
            proc.kill()
            raise TargetError(f"no answer within {self.timeout:g} s (hung); the implementation was stopped")
        if line == "":
            code = proc.wait(timeout=5)
            raise TargetError(f"the implementation exited with status {code} without answering")
        try:
            reply = json.loads(line)
        except json.JSONDecodeError:
            raise TargetError(f"the implementation answered garbage: {line.strip()[:120]!r}") from None
        if not isinstance(reply, dict) or "ok" not in reply:
            raise TargetError(f"the implementation answered {line.strip()[:120]!r}, not a protocol response")
        return reply

    def restart(self):
        self.close()
        self._start()

    def close(self):
        if self.proc is not None and self.proc.poll() is None:
            try:
                self.proc.stdin.write(json.dumps({"op": "bye"}) + "\n")
                self.proc.stdin.flush()
                self.proc.wait(timeout=2)
            except (OSError, subprocess.TimeoutExpired):
                self.proc.kill()


def _read_line(stream, timeout):
    box = []
    t = threading.Thread(target=lambda: box.append(stream.readline()), daemon=True)
    t.start()
    t.join(timeout)
    return box[0] if box else None


class SysfsTarget(Target):
    """File operations under ROOT: errno comes from the operating system, as on a host."""

    def __init__(self, root: str):
        self.name = f"sysfs:{root}"
        self.root = Path(root)
        if not self.root.is_dir():
            raise UsageError(f"sysfs target: {root} is not a directory")
        self.control = self.root / "gcu-model"

    def _path(self, path):
        return self.root / path.lstrip("/")

    def request(self, req):
        op = req.get("op")
        try:
            if op == "read":
                return {"ok": True, "result": {"accepted": True, "text": self._path(req["path"]).read_text()}}
            if op == "write":
                with open(self._path(req["path"]), "w") as f:
                    f.write(req["text"])
                return {"ok": True, "result": {"accepted": True}}
            if op == "list":
                return {"ok": True, "result": {"accepted": True,
                                               "entries": sorted(os.listdir(self._path(req["path"])))}}
        except OSError as exc:
            return {"ok": True, "result": {"accepted": False, "errno": errno_mod.errorcode.get(exc.errno, "EIO"),
                                           "message": exc.strerror or ""}}
        if not self.control.is_dir():
            return {"ok": False, "error": f"{op}: {self.root} has no control folder (gcu-model serve-sysfs provides one)"}
        try:
            if op == "reset":
                initial = req.get("initial") or {}
                (self.control / "reset").write_text(req["config"] + (f" {json.dumps(initial)}" if initial else "")
                                                    + "\n")
                return {"ok": True, "config": req["config"]}
            if op == "observe":
                if not req.get("model"):       # what a user sees is read from the files themselves
                    return {"ok": False, "error": "a sysfs target is observed through its files"}
                return {"ok": True, **json.loads((self.control / "observe").read_text())}
            if op == "run":
                (self.control / "run").write_text(req["command"] + "\n")
                status, _, output = (self.control / "run").read_text().partition("\n")
                return {"ok": True, "status": int(status), "stdout": output, "stderr": ""}
            if op == "apply":
                (self.control / "apply").write_text(req["action"] + "\n")
                return {"ok": True, "outcome": _outcome_text((self.control / "apply").read_text())}
        except OSError as exc:
            return {"ok": False, "error": f"{op}: {exc.strerror}"}
        return {"ok": False, "error": f"the sysfs target cannot '{op}'"}


def _outcome_text(text):
    text = text.strip()
    if text == "accepted":
        return {"accepted": True}
    head, _, message = text.partition(": ")
    return {"accepted": False, "errno": head.split()[-1], "message": message}


def open_target(description: str, spec=None, timeout: float = 10.0) -> Target:
    """'reference', 'python:MODULE:FACTORY', 'exec:COMMAND' or 'sysfs:ROOT'."""
    if description == "reference":
        from ..spec.loader import load_spec
        from ..reference.protocol import Server
        loaded = spec or load_spec()
        return InProcessTarget("reference", lambda: Server(loaded))
    kind, _, rest = description.partition(":")
    if kind == "python":
        module_name, _, factory_name = rest.partition(":")
        if not module_name or not factory_name:
            raise UsageError("python target: write python:MODULE:FACTORY")
        try:
            module = importlib.import_module(module_name)
        except ImportError as exc:
            raise UsageError(f"python target: cannot import {module_name}: {exc}") from None
        factory = getattr(module, factory_name, None)
        if not callable(factory):
            raise UsageError(f"python target: {module_name} has no callable {factory_name}")
        return InProcessTarget(description, factory)
    if kind == "exec":
        if not rest.strip():
            raise UsageError("exec target: write exec:COMMAND")
        return ExecTarget(rest, timeout=timeout)
    if kind == "mutant":                 # a faulty implementation of conformance/mutants (issue 6)
        from ..conform import kit_dir
        from ..conform.mutants import MutantError, load_mutant, mutant_target
        from ..spec.loader import default_spec_dir, load_spec
        path = kit_dir() / "mutants" / f"{rest}.yaml"
        if not rest or not path.is_file():
            known = sorted(p.stem for p in (kit_dir() / "mutants").glob("*.yaml"))
            raise UsageError(f"no mutant '{rest}'; mutants: {', '.join(known) or '(none)'}")
        try:
            return mutant_target(load_mutant(path), spec or load_spec(), default_spec_dir(), kit_dir())
        except MutantError as exc:
            raise UsageError(str(exc)) from None
    if kind == "sysfs":
        if not rest:
            raise UsageError("sysfs target: write sysfs:ROOT")
        return SysfsTarget(rest)
    raise UsageError(f"unknown target '{description}': use reference, python:MODULE:FACTORY, exec:COMMAND, "
                     "sysfs:ROOT or mutant:NAME")
