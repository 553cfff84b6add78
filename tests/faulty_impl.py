"""Implementations that misbehave, for the conformance runner's tests (issue 6): each is
the reference server with one way of failing, built by a factory for `python:` targets,
or run as a script for `exec:` (`python3 tests/faulty_impl.py hang|garbage|exit`)."""
from __future__ import annotations

import json
import sys
import time

from gcu_model.reference.protocol import Server
from gcu_model.spec.loader import load_spec

TRIGGER = "modprobe_peermem()"


class Crashing(Server):
    """Raises an exception of its own when asked for TRIGGER."""

    def handle(self, request):
        if request.get("op") == "apply" and request.get("action") == TRIGGER:
            raise RuntimeError("driver oops")
        return super().handle(request)


class Blind(Server):
    """Cannot observe: answers `observe` with an error, everything else as the reference."""

    def handle(self, request):
        if request.get("op") == "observe":
            return {"ok": False, "error": "observe is not implemented"}
        return super().handle(request)


class NoWait(Server):
    """Its efsmi starts a reset and returns at once, as a tool that does not wait would."""

    def handle(self, request):
        if request.get("op") == "run" and request.get("command", "").startswith("efsmi "):
            from gcu_model.shell.commands import parse
            from gcu_model.reference.sysfs import LiveNames
            parsed = parse(request["command"], self.spec, LiveNames(self.fs))
            step = self.host.apply(parsed.action)
            return {"ok": True, "status": 0 if step.accepted else 1, "stdout": "", "stderr": ""}
        return super().handle(request)


def no_wait():
    return NoWait(load_spec())


def crashing():
    return Crashing(load_spec())


def blind():
    return Blind(load_spec())


def main(mode):
    server = Server(load_spec())
    for line in sys.stdin:
        request = json.loads(line)
        if request.get("op") == "apply" and request.get("action") == TRIGGER:
            if mode == "hang":
                time.sleep(3600)
            if mode == "garbage":
                print("Segmentation fault (core dumped)", flush=True)
                continue
            if mode == "exit":
                sys.exit(139)
        print(server.handle_line(line), flush=True)


if __name__ == "__main__":
    main(sys.argv[1])
