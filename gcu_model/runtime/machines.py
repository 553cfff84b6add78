"""The spec's machines as `transitions` state machines (issue 2, item 5).

One `transitions.Machine` per spec machine; one model object per instance of its family.
All models read and write one shared list of slot values, so a transition of one machine
can change another (a VM stopping hands its VF back to vfio-pci). Guards are compiled
conditions (closures over the ground terms), effects run as `before` callbacks, the
destination is set by `transitions` itself. The reference driver (issue 5) runs on this;
the explorer never does (it uses the generated successor function).
"""
from __future__ import annotations

from transitions import Machine, MachineError

from ..core.outcome import Accepted, OutOfBounds, Refused


class _InstanceModel:
    """A machine instance: its `state` lives in the shared value list."""

    def __init__(self, runtime, control_slot: int, states: tuple, label: str):
        self._runtime = runtime
        self._slot = control_slot
        self._states = states
        self.label = label

    @property
    def state(self):
        return self._states[self._runtime.values[self._slot]]

    @state.setter
    def state(self, name):
        self._runtime.values[self._slot] = self._states.index(name)

    def __repr__(self):
        return f"<{self.label}: {self.state}>"


class Runtime:
    def __init__(self, system, state: tuple | None = None):
        self.system = system
        self.values = list(state if state is not None else system.initial[0])
        self.machines: dict[str, Machine] = {}
        self.models: dict[tuple, _InstanceModel] = {}
        self._refusal = None
        self._fired = None
        self._pre = {}
        layout = system.layout
        spec = system.spec
        start = list(self.values)
        for m in spec.machines.values():
            models = []
            for inst in layout.instances[m.family]:
                if (m.family, inst.index, m.control) in layout.frozen:
                    continue            # a machine this configuration never moves
                slot = layout.slot_of[(m.family, inst.index, m.control)]
                model = _InstanceModel(self, slot, m.states, inst.label)
                self.models[(m.name, inst.index)] = model
                models.append(model)
            machine = Machine(model=models or None, states=list(m.states), initial=m.initial[0],
                              auto_transitions=False, send_event=False, ignore_invalid_triggers=False,
                              model_attribute="state", name=m.name)
            self.machines[m.name] = machine
        self.values[:] = start          # transitions wrote each model's initial state; restore
        for ga in system.actions:
            machine = self.machines[ga.decl.machine]
            self._pre[ga.id], compiled = system.rule_closures(ga)
            for rule, (when, checks, effect) in zip(ga.rules, compiled):
                machine.add_transition(
                    trigger=self.trigger_name(ga),
                    source=[ga.states[s] for s in rule.sources],
                    dest=ga.states[rule.dest] if rule.dest is not None else None,
                    conditions=[self._condition(when, checks)],
                    before=[self._effect(effect, rule)],
                )

    @staticmethod
    def trigger_name(ga) -> str:
        return str(ga.action)

    def _condition(self, when, checks):
        def condition():
            if not when(self.values):
                return False
            for check, rid in checks:
                if not check(self.values):
                    self._refusal = rid
                    return False
            return True
        return condition

    def _effect(self, effect, rule):
        def run():
            effect(self.values)
            self._fired = rule
        return run

    # ---- running
    @property
    def state(self) -> tuple:
        return tuple(self.values)

    def reset(self, state: tuple) -> None:
        self.values[:] = state

    def apply(self, action):
        """Apply one action through the transitions machines; same outcome types as System.step."""
        system = self.system
        ga = system.action(action) if not hasattr(action, "rules") else action
        before = tuple(self.values)
        for cond, rid in self._pre[ga.id]:
            if not cond(self.values):
                return self._refused(ga, rid, before)
        model = self.models[(ga.decl.machine, ga.target)]
        self._refusal = None
        self._fired = None
        try:
            done = model.trigger(self.trigger_name(ga))
        except MachineError:
            done = False
        if not done:
            self.values[:] = before
            rid = self._refusal if self._refusal is not None else ga.otherwise
            return self._refused(ga, rid, before)
        rule = self._fired
        for slot, lo, hi in rule.bounded:
            if not lo <= self.values[slot] <= hi:
                value = self.values[slot]
                self.values[:] = before
                return OutOfBounds(before, f"{system.layout.slots[slot].label} would become {value} "
                                           f"(bound {lo}..{hi})")
        return Accepted(tuple(self.values), rule.observations, rule.transition.id)

    def _refused(self, ga, rid, state):
        r = self.system.refusals[rid]
        return Refused(state, r.errno, r.text(ga.states[state[ga.control]]), r.rule, r.reqs, r.id)
