"""Open enums on the reference host: any process name a user gives, not only the model's.

The spec's open enums (constants.yaml `open_enums:`, data independence) let the explorer
use a few names, `other` standing for every name the rules leave unnamed. A user of a host
writes `add:mytool` to a whitelist; the host keeps the real names of every set variable of
an open enum (in the order they came) beside the model, whose `other` bit says whether any
unnamed name is there. An action naming an unnamed value is decided by the spec on a view
where `other` means that very name: the view's `other` bit is set where the name is held.
The spec's answer on the view is the answer; the name's membership afterwards is the
view's `other` bit afterwards, and the model's `other` bit is again "any unnamed name".

This is sound for rules that add, remove or test for the value an action names, empty a
set in actions that name none, and compare values only with those they name: what data
independence asks of them (the loader refuses a rule that names `other`).
"""
from __future__ import annotations

import re

from ..core.outcome import Accepted, Action, Refused
from ..spec.types import EnumT, SetT


class OpenNameError(ValueError):
    """A value that is neither a value of the enum nor of its syntax."""


def open_enum(t):
    return t if isinstance(t, EnumT) and t.other is not None else None


class OpenNames:
    def __init__(self, system, state):
        self.system = system
        layout = system.layout
        self.slots = {}                        # slot index -> its element enum
        self.by_label = {}
        for slot in layout.slots:
            if isinstance(slot.type, SetT) and open_enum(slot.type.elem):
                self.slots[slot.index] = slot.type.elem
                self.by_label[slot.label] = slot.index
        self.names = {i: list(layout.decode(state[i], layout.slots[i].type)) for i in self.slots}

    # ---- reading
    def of(self, label: str, view: dict) -> list:
        """The real names of a set variable by label ('card0.rpm_whitelist'), in the order
        added; a variable the configuration never changes (frozen) reads from `view`, the
        state's describe()."""
        slot = self.by_label.get(label)
        return list(self.names[slot]) if slot is not None else list(view[label])

    # ---- an action that may name an unnamed value
    def split(self, text: str):
        """An action text -> (the model's action text, {param: real name}); see `split_params`."""
        parsed = Action.parse(text)
        if parsed is None or parsed.name not in self.system.spec.actions:
            return text, {}
        name, params = parsed.name, parsed.kwargs
        model, real = self.split_params(name, params)
        return (str(Action(name, tuple(model.items()))), real) if real else (text, {})

    def split_params(self, name: str, params: dict):
        """An action's parameters -> (the model's parameters, {param: real name}): the real names
        are the values of an open enum's parameter that the enum leaves unnamed, any text of
        its syntax (OpenNameError for one that fits neither)."""
        model, real = dict(params), {}
        decl = self.system.spec.actions.get(name)
        for p in decl.params if decl is not None else ():
            enum = open_enum(p.type) if not p.is_instance else None
            value = params.get(p.name)
            if enum is None or value is None or value in enum.named:
                continue
            if not re.fullmatch(enum.syntax, value):
                shown = value if len(value) <= 40 else value[:40] + "..."
                raise OpenNameError(f"{p.name}={shown}: not a {enum.name} (one of {', '.join(enum.named)}, or any "
                                    f"name matching {enum.syntax})")
            real[p.name] = value
            model[p.name] = enum.other
        if len(set(real.values())) > 1:
            raise OpenNameError(f"{name}: one unnamed {', '.join(sorted(real))} value an action")
        return model, real

    def view(self, state: tuple, real: dict) -> tuple:
        """The state the spec decides on: `other` held where the real name is."""
        if not real:
            return state
        name = next(iter(real.values()))
        out = list(state)
        for i, enum in self.slots.items():
            bit = 1 << enum.values.index(enum.other)
            out[i] = (out[i] | bit) if name in self.names[i] else (out[i] & ~bit)
        return tuple(out)

    def settle(self, ga, before: tuple, outcome, real: dict):
        """The spec's outcome on the view -> the outcome on the real state; the real names
        follow it."""
        if isinstance(outcome, Refused):
            message = outcome.message
            if real and outcome.refusal >= 0:
                message = self.system.refusals[outcome.refusal].text_with(ga.states[before[ga.control]], real)
            return Refused(before, outcome.errno, message, outcome.rule, outcome.reqs, outcome.refusal)
        if not isinstance(outcome, Accepted):
            return outcome
        state = list(outcome.state)
        name = next(iter(real.values()), None)
        for i, enum in self.slots.items():
            names = self.names[i]
            bit = 1 << enum.values.index(enum.other)
            for v in enum.named:                           # the named values follow the model
                held = state[i] >> enum.values.index(v) & 1
                if held and v not in names:
                    names.append(v)
                elif not held and v in names:
                    names.remove(v)
            if name is not None:                           # the real name follows the view's `other`
                if state[i] & bit and name not in names:
                    names.append(name)
                elif not state[i] & bit and name in names:
                    names.remove(name)
            elif not state[i] & bit:                       # a rule emptied the set of them
                names[:] = [v for v in names if v in enum.named]
            elif not any(v not in enum.named for v in names):
                names.append(enum.other)                   # a rule put `other` in: its stand-in
            unnamed = any(v not in enum.named for v in names)
            state[i] = (state[i] | bit) if unnamed else (state[i] & ~bit)
        return Accepted(tuple(state), outcome.observations, outcome.transition)
