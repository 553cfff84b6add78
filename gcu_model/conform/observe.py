"""What a conformance step compares: the outcome of an action and the observation after it.

An observation is flat: the visible keys (`reference/visible.py`: every file under /sys by
its path, `/dev`, `lsmod`) are what a user of a host sees and are compared by default, in
both directions (a file that should not exist is a difference too). The model's own labels
(`host.kmd`, `card0.numvfs`, `card0.device_id`, `device.card0.l3.pf`) are compared only on
request (`model=True`, for in-house targets that expose them), and only those the expectation
names: a target may keep more (extra VM and container slots) or none at all.
"""
from __future__ import annotations

from ..reference.visible import SurfaceError, is_visible, through_surface


def flatten(observed: dict) -> dict:
    """The `observe` response's result -> {key: JSON value}."""
    out = {}
    for k, v in (observed.get("visible") or {}).items():
        out[k] = _plain(v)
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


ABSENT = "(absent)"


def differences(expected: dict, observed: dict, model: bool = False) -> dict:
    """key -> (expected, observed) where the target differs: every visible key either side
    has, and with `model` every model label the expectation names."""
    out = {}
    for k, want in expected.items():
        if model or is_visible(k):
            got = observed.get(k, ABSENT)
            if want != got:
                out[k] = (want, got)
    for k, got in observed.items():
        if k not in expected and is_visible(k):
            out[k] = (ABSENT, got)
    return dict(sorted(out.items()))


class Observer:
    """Takes a target's observation after a step: its `observe` answer when it gives one,
    else a walk of its surface (`list`, `read`, `run lsmod`), as on a host with no
    `observe` at all. `model` asks for the model's own labels too."""

    def __init__(self, target, model: bool = False):
        self.target = target
        self.model = model
        self.walks = None                  # unknown until the first observation
        self.available = None              # False: the target can be observed neither way
        self.note = ""

    def observe(self) -> dict | None:
        """The flat observation, or None when the target offers no way to observe it (found
        at the first step; the run then compares outcomes only, and says so)."""
        from ..adapters.targets import TargetError
        if self.available is False:
            return None
        if not self.walks:
            reply = self.target.request({"op": "observe", "model": True} if self.model else {"op": "observe"})
            if reply.get("ok") and isinstance(reply.get("visible"), dict):
                self.walks, self.available = False, True
                return flatten(reply)
            if self.walks is False:
                raise TargetError(f"observe: {reply.get('error', 'no visible observation in the answer')}")
            self.walks = True
            self.note = f"observe: {reply.get('error', 'no visible observation in the answer')}"
        try:
            got = through_surface(self.target.request)
        except SurfaceError as exc:
            if self.available is None:
                self.available = False
                self.note += f"; the surface: {exc}"
                return None
            raise TargetError(f"observing through the surface: {exc}") from None
        self.available = True
        return got

    @property
    def how(self) -> str:
        return "walked through list/read/run" if self.walks else "observe"
