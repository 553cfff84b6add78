"""Trace checking (issue 7): a recorded run of an implementation, checked step by step
against the model.

The log is JSON lines in the adapter protocol's vocabulary (docs/adapter-protocol.md):
an optional first `{"op": "reset", "config": NAME, "initial": {...}}`, then one object per
step with `action` and `outcome` (`{"accepted": true}` or `{"accepted": false, "errno":
...}`) — exactly what an `apply` response carries, so a log of responses is a trace.
Lines with other ops (`read`, `observe` ...) are skipped. The first step whose recorded
outcome the model does not give is reported: an action accepted that the model refuses
("the model does not allow it"), one refused that the model accepts, or another errno.
"""
from __future__ import annotations

import json
from pathlib import Path

from ..core.outcome import Accepted
from ..reference.host import HostError, ReferenceHost


class TraceError(Exception):
    """A log that is not a trace: names the file and line."""


def check_trace(spec, path, config: str | None = None) -> dict:
    p = Path(path)
    try:
        raw = p.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise TraceError(f"{p}: {exc.strerror}") from None
    host = None
    steps = 0
    for number, text in enumerate(raw, 1):
        if not text.strip():
            continue
        try:
            entry = json.loads(text)
        except json.JSONDecodeError as exc:
            raise TraceError(f"{p}:{number}: not JSON ({exc.msg})") from None
        if not isinstance(entry, dict):
            raise TraceError(f"{p}:{number}: a trace line is a JSON object")
        if entry.get("op") == "reset":
            name = config or entry.get("config")
            host = _host(spec, name, entry.get("initial") or {}, p, number)
            continue
        if "action" not in entry or entry.get("op") not in (None, "apply"):
            continue
        if host is None:
            if config is None:
                raise TraceError(f"{p}:{number}: no reset line before the first step; give --config")
            host = _host(spec, config, {}, p, number)
        outcome = entry.get("outcome")
        if not isinstance(outcome, dict) or not isinstance(outcome.get("accepted"), bool):
            raise TraceError(f"{p}:{number}: 'outcome' must be an object with 'accepted' true or false")
        steps += 1
        try:
            step = host.apply(str(entry["action"]))
        except HostError as exc:
            raise TraceError(f"{p}:{number}: {exc}") from None
        model = {"accepted": True} if isinstance(step.outcome, Accepted) else \
            {"accepted": False, "errno": getattr(step.outcome, "errno", None)}
        recorded = {"accepted": outcome["accepted"]} if outcome["accepted"] else \
            {"accepted": False, "errno": outcome.get("errno")}
        if model != recorded:
            if recorded["accepted"]:
                problem = f"the model does not allow it ({model['errno']}: {getattr(step.outcome, 'message', '')})"
            elif model["accepted"]:
                problem = "refused, but the model accepts it here"
            else:
                problem = f"refused with {recorded['errno']}, the model says {model['errno']}"
            return {"file": str(p), "config": host.config_name, "ok": False, "steps": steps,
                    "first_divergence": {"line": number, "step": steps, "action": str(entry["action"]),
                                         "problem": problem, "recorded": recorded, "model": model,
                                         "reqs": list(getattr(step.outcome, "reqs", ()))}}
    if host is None:
        raise TraceError(f"{p}: no steps in the trace")
    return {"file": str(p), "config": host.config_name, "ok": True, "steps": steps, "first_divergence": None}


def _host(spec, name, initial, p, number):
    if not name:
        raise TraceError(f"{p}:{number}: the reset line names no configuration")
    try:
        return ReferenceHost(spec, name, initial)
    except HostError as exc:
        raise TraceError(f"{p}:{number}: {exc}") from None
