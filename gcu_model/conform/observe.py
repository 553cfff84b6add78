"""What a conformance step compares: the outcome of an action and the observation after it
(issue 6).

An observation is the adapter protocol's `observe` answer flattened to one level:
`host.kmd`, `card0.numvfs` (state variables), `card0.device_id` (quantities) and
`device.card0.l3.pf` (the device model: L2/L3 contents, firmware reloads). A suite records
the observation keys of its configuration; a target may show more (the reference host has
extra VM and container slots), and those are not compared.
"""
from __future__ import annotations


def flatten(observed: dict) -> dict:
    """The `observe` response's result -> {key: JSON value}."""
    out = {}
    for section in ("state", "quantities"):
        for k, v in (observed.get(section) or {}).items():
            out[k] = _plain(v)
    for card, fields in (observed.get("device") or {}).items():
        for k, v in fields.items():
            if isinstance(v, dict):
                for sub, x in v.items():
                    out[f"device.{card}.{k}.{sub}"] = _plain(x)
            else:
                out[f"device.{card}.{k}"] = _plain(v)
    return out


_COLLECTIONS = (set, frozenset, tuple)


def _plain(v):
    return sorted(v) if type(v) in _COLLECTIONS else v


def outcome_of(reply: dict) -> dict:
    """The protocol's outcome -> what a case expects: accepted, or the errno."""
    if reply.get("accepted"):
        return {"accepted": True}
    return {"accepted": False, "errno": reply.get("errno")}


def differences(expected: dict, observed: dict) -> dict:
    """key -> (expected, observed) for every expected key the target shows otherwise."""
    missing = object()
    out = {}
    for k, v in expected.items():
        got = observed.get(k, missing)
        if got is missing:
            out[k] = (v, "(absent)")
        elif got != v:
            out[k] = (v, got)
    return out
