"""The adapter protocol: JSON lines between a conformance driver and an implementation
under test (issue 5). `docs/adapter-protocol.md` is its reference page.

One request per line, one response per line, in order. Every response has `ok`: true
when the request was understood and carried out (a refused action is still `ok`: the
refusal is the result), false with `error` when it was not (malformed JSON, an unknown
op, a missing field, an unknown configuration or action). The server never exits on a
bad request; it exits at end of input or on {"op": "bye"}.
"""
from __future__ import annotations

import json

from . import visible
from .host import HostError, ReferenceHost, outcome_dict
from .shell import Shell
from .sysfs import Sysfs, SysfsError

PROTOCOL_VERSION = 2
OPS = ("hello", "reset", "apply", "read", "write", "list", "run", "ras", "observe", "advance", "bye")


class Server:
    def __init__(self, spec, config: str | None = None):
        self.spec = spec
        self.host = None
        self.fs = None
        if config is not None:
            self._reset(config)

    def _reset(self, config, initial=None):
        if self.host is not None and self.host.config_name == config:
            self.host.reset_to(initial)
        else:
            self.host = ReferenceHost(self.spec, config, initial)
        self.fs = Sysfs(self.host)
        self.shell = Shell(self.host, self.fs)      # one shell a session: its jobs outlive a request

    def handle_line(self, line: str) -> str:
        try:
            request = json.loads(line)
        except json.JSONDecodeError as exc:
            return json.dumps({"ok": False, "error": f"not JSON: {exc.msg} at column {exc.colno}"})
        return json.dumps(self.handle(request))

    def handle(self, request) -> dict:
        if not isinstance(request, dict):
            return {"ok": False, "error": "a request is a JSON object"}
        op = request.get("op")
        reply = {"id": request["id"]} if "id" in request else {}
        if op not in OPS:
            return reply | {"ok": False, "error": f"unknown op {op!r}; ops: {', '.join(OPS)}"}
        try:
            return reply | {"ok": True} | getattr(self, f"op_{op}")(request)
        except _BadRequest as exc:
            return reply | {"ok": False, "error": str(exc)}
        except HostError as exc:
            return reply | {"ok": False, "error": str(exc)}

    # ---- ops
    def op_hello(self, request):
        return {"protocol": PROTOCOL_VERSION, "implementation": "gcu-model reference host",
                "configs": list(self.spec.configs), "config": self.host.config_name if self.host else None}

    def op_reset(self, request):
        config = _field(request, "config", str)
        initial = request.get("initial", {})
        if not isinstance(initial, dict):
            raise _BadRequest("field 'initial' must be an object: variable label -> value")
        self._reset(config, initial)
        return {"config": config}

    def op_apply(self, request):
        step = self._host().apply(_field(request, "action", str))
        return {"action": step.action, "outcome": outcome_dict(step.outcome), "log": step.log}

    def op_read(self, request):
        path = _field(request, "path", str)
        try:
            return {"result": {"accepted": True, "text": self._fs().read(path)}}
        except SysfsError as exc:
            return {"result": {"accepted": False, "errno": exc.errno, "message": exc.message}}

    def op_write(self, request):
        path, text = _field(request, "path", str), _field(request, "text", str)
        host = self._host()
        mark = len(host.kernel_log)
        try:
            self._fs().write(path, text)
            return {"result": {"accepted": True}, "log": _new_log(host, mark)}
        except SysfsError as exc:
            return {"result": {"accepted": False, "errno": exc.errno, "message": exc.message}}

    def op_list(self, request):
        path = _field(request, "path", str)
        try:
            return {"result": {"accepted": True, "entries": self._fs().listdir(path)}}
        except SysfsError as exc:
            return {"result": {"accepted": False, "errno": exc.errno, "message": exc.message}}

    def op_run(self, request):
        self._host()
        result = self.shell.run(_field(request, "command", str))
        return {"status": result.status, "stdout": result.stdout, "stderr": result.stderr}

    def op_ras(self, request):
        step = self._host().ras(_field(request, "ip", str), _field(request, "device", str))
        return {"action": step.action, "outcome": outcome_dict(step.outcome), "log": step.log}

    def op_observe(self, request):
        """What a user sees (visible.py); with `model: true` the model's own variables too."""
        model = request.get("model", False)
        if not isinstance(model, bool):
            raise _BadRequest("field 'model' must be true or false")
        out = {"visible": visible.of_host(self._fs(), self.shell)}
        return out | self.host.observation() if model else out

    def op_advance(self, request):
        ms = _field(request, "ms", int)
        if ms < 0:
            raise _BadRequest("ms must be >= 0")
        fired = self._host().advance(ms)
        return {"fired": [s.action for s in fired], "clock_ms": self.host.clock_ms}

    def op_bye(self, request):
        return {"bye": True}

    def _host(self):
        if self.host is None:
            raise _BadRequest("no configuration yet: send {\"op\": \"reset\", \"config\": NAME} first")
        return self.host

    def _fs(self):
        self._host()
        return self.fs


class _BadRequest(ValueError):
    pass


def _field(request, name, kind):
    if name not in request:
        raise _BadRequest(f"missing field '{name}'")
    value = request[name]
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise _BadRequest(f"field '{name}' must be {kind.__name__}, got {type(value).__name__}")
    return value


def _new_log(host, mark):
    return [line.split("] ", 1)[-1] for line in host.kernel_log[mark:]]


def serve(spec, config, stdin, stdout) -> None:
    server = Server(spec, config)
    for line in stdin:
        if not line.strip():
            continue
        out = server.handle_line(line)
        stdout.write(out + "\n")
        stdout.flush()
        if '"bye": true' in out:
            break
