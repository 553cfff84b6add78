"""The reference host: the spec's machines, run through `transitions`, plus what a user of
a real host sees around them (issue 5).

Every decision (accepted or refused, with which errno) comes from the spec, through
`gcu_model.runtime.Runtime`. The host adds what the spec leaves abstract: the kernel log,
a millisecond clock with the timers of the spec's timed actions (a reset attempt ends, an
idle card suspends: `timed:` in the machines), and the device model (`device.py`).
The sysfs tree (`sysfs.py`) and the command lines (`shell.py`) are views onto it.

A reference host runs one embedded configuration with every feature offered: the
`explore_*` switches that keep explorations small are all on, the operator-choice sets
(install modes, VF counts, vgcu_num values) are complete, every exploration bound (a
constant marked `exploration_bound`, such as max_opens) is lifted to what a Linux counter
holds, so no user ever meets it, and there are container and VM slots to use.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ..core.outcome import Accepted, Action, OutOfBounds, Refused
from ..core.system import System, UnknownAction
from ..runtime.machines import Runtime
from .device import DeviceModel
from .open_names import OpenNames
from .options import ModuleOptions
from .roles import Roles, StateView

UNBOUNDED = 2**31 - 1           # an exploration bound on the reference host: a kernel int's range
CONTAINERS, VMS = 4, 2          # container and VM slots a reference host offers at least
MAX_FIRINGS = 10_000            # timed actions one advance may fire (a spec whose timers loop)


class HostError(ValueError):
    """Bad use of the host API: an unknown configuration or action."""


def reference_config(spec, name: str):
    if name not in spec.configs:
        raise HostError(f"unknown configuration '{name}'; known: {', '.join(spec.configs)}")
    base = spec.configs[name]
    values = {k: v for k, v in base.values.items()}
    for cname in spec.constants:
        if cname.startswith("explore_"):
            values[cname] = True
    for cname in ("install_modes", "vf_num_options", "vgcu_nums"):
        if cname in spec.constants and hasattr(spec.constants[cname], "default"):
            values[cname] = spec.constants[cname].default
    vf_count = _roles(spec).count_constant("vf")
    if "numvfs_writes" in values and vf_count is not None:
        slots = base.values.get(vf_count, 0)
        most = max(slots, default=0) if isinstance(slots, tuple) else slots     # per card: the largest
        values["numvfs_writes"] = frozenset(values["numvfs_writes"]) | frozenset(range(most + 2))
    for cname, constant in spec.constants.items():
        if getattr(constant, "exploration_bound", False):
            values[cname] = UNBOUNDED
    for role, least in (("container", CONTAINERS), ("vm", VMS)):
        count = _roles(spec).count_constant(role)
        if count is not None:
            values[count] = max(values.get(count, 0), least)
    return spec.derive_config(f"{name} (reference)", values, base.initial,
                              description=base.description, where=base.where)


_SYSTEMS: dict = {}


def _system(spec, config):
    """The reference configuration's System, built once per spec object and configuration
    (a System never changes once built; the host's state lives in its Runtime)."""
    key = (id(spec), config)
    hit = _SYSTEMS.get(key)
    if hit is None or hit[0] is not spec:
        if len(_SYSTEMS) > 64:
            _SYSTEMS.clear()
        hit = _SYSTEMS[key] = (spec, System(spec, reference_config(spec, config)))
    return hit[1]


_ROLES: dict = {}


def _roles(spec) -> Roles:
    """The spec's Roles, checked once per spec object (InvalidSpec where the reference's
    reads are missing)."""
    hit = _ROLES.get(id(spec))
    if hit is None or hit[0] is not spec:
        if len(_ROLES) > 64:
            _ROLES.clear()
        hit = _ROLES[id(spec)] = (spec, Roles(spec))
    return hit[1]


@dataclass
class Step:
    """What one action did on the host."""
    action: str
    outcome: object                       # Accepted | Refused | OutOfBounds
    log: list = field(default_factory=list)

    @property
    def accepted(self) -> bool:
        return isinstance(self.outcome, Accepted)


class ReferenceHost:
    """`initial` picks among the configuration's initial states, e.g. {"card0.fw": "on"};
    without it the host starts in the first one."""

    def __init__(self, spec, config: str, initial: dict | None = None, system=None):
        """`system`: run this System instead of the reference configuration's (a probe that
        shows the states of an exploration, `place`)."""
        self.spec = spec
        self.roles = _roles(spec)
        self.config_name = config
        self.initial = dict(initial or {})
        self.system = system if system is not None else _system(spec, config)
        self.runtime = Runtime(self.system, self._start(self.initial))
        self._fresh()

    def reset_to(self, initial: dict | None = None) -> None:
        """Start over on the same configuration (from the initial state `initial` picks),
        without building the system again."""
        self.initial = dict(initial or {})
        self.runtime.reset(self._start(self.initial))
        self._fresh()

    def _fresh(self):
        self._views: dict = {}                 # the last state's describe() and quantities()
        self.device = DeviceModel(self)
        self.options = ModuleOptions(self)
        self.open_names = OpenNames(self.system, self.state)     # any process name a user gives
        self.clock_ms = 0
        self.failing_resets = 0         # fault injection: how many coming reset attempts fail
        self.kernel_log: list[str] = []
        self.history: list[Step] = []
        self._timers: dict = {}                 # (timed action, instance label) -> clock_ms it started
        self._track()                           # a placed state's timers run from now

    def _start(self, wanted):
        for state in self.system.initial:
            d = self.system.describe(state)
            unknown = [k for k in wanted if k not in d]
            if unknown:
                raise HostError(f"no variable '{unknown[0]}' to start from")
            if all(str(d[k]).lower() == str(v).lower() for k, v in wanted.items()):
                return state
        raise HostError(f"configuration {self.config_name} has no initial state with "
                        + ", ".join(f"{k}={v}" for k, v in wanted.items()))

    # ---- the model's state, read
    @property
    def state(self) -> tuple:
        return self.runtime.state

    def describe(self) -> dict:
        return dict(self._described())

    def _described(self) -> dict:
        state = self.state
        if self._views.get("describe", (None,))[0] != state:
            self._views["describe"] = (state, self.system.describe(state))
        return self._views["describe"][1]

    def quantities(self) -> dict:
        return dict(self._quantities())

    def _quantities(self) -> dict:
        state = self.state
        if self._views.get("quantities", (None,))[0] != state:
            self._views["quantities"] = (state, self.system.quantities(state))
        return self._views["quantities"][1]

    def view(self, state: tuple | None = None) -> StateView:
        """The state (the current one by default) read by role: view.pf[0].reset (roles.py)."""
        if state is None or state == self.state:
            return StateView(self.roles, self.system.layout, self._described(), self._quantities)
        return StateView(self.roles, self.system.layout, self.system.describe(state),
                         lambda: self.system.quantities(state))

    def pfs(self) -> list:
        """The cards' PF instances."""
        return self.roles.instances(self.system.layout, "pf")

    def act(self, name: str, *instances, **values) -> "Step":
        """Apply the spec's action `name` with these instances and values (Roles.action)."""
        return self.apply(self.roles.action(name, *instances, **values))

    def value(self, label: str):
        """One variable or quantity by label: 'host.kmd', 'card0.numvfs', 'card0.vgcu_count'."""
        d = self.describe()
        if label in d:
            return d[label]
        q = self.quantities()
        if label in q:
            return q[label]
        raise HostError(f"no variable or quantity '{label}'")

    def offers(self, action: str) -> bool:
        try:
            self.system.action(action)
            return True
        except UnknownAction:
            return False

    def check_invariants(self) -> list:
        return self.system.check_invariants(self.state)

    # ---- the model's state, changed
    def apply(self, action: "str | Action", params: dict | None = None) -> Step:
        """Apply one action of the spec: its text, as the explorer writes it, or its name and
        `params` (for values no action text can carry: a process name with a comma). A
        parameter of an open enum may be any name of its syntax (open_names.py)."""
        action = str(action) if params is None else action
        try:
            if params is None:
                text, real = self.open_names.split(action)
            else:
                model, real = self.open_names.split_params(action, params)
                text = str(Action(action, tuple(model.items())))
            ga = self.system.action(text)
        except Exception as exc:            # an unknown action, a bad parameter or open name
            raise HostError(str(exc)) from None
        before = self.state
        self._time_of(ga)
        if real:
            self.runtime.reset(self.open_names.view(before, real))
            outcome = self.open_names.settle(ga, before, self.runtime.apply(ga), real)
            self.runtime.reset(outcome.state if isinstance(outcome, Accepted) else before)
        else:
            outcome = self.runtime.apply(ga)
            if isinstance(outcome, Accepted) and self.open_names.slots:
                outcome = self.open_names.settle(ga, before, outcome, {})
        shown = ga.action if not real else type(ga.action)(ga.action.name, tuple(
            (k, real.get(k, v)) for k, v in ga.action.params))
        step = Step(str(shown), outcome)
        if isinstance(outcome, Accepted):
            self._log(list(outcome.observations), step)
            self.device.after(ga, before, outcome)
            self._log(self.options.after(ga, before), step)
            if ga.decl.timed is not None:       # it happened: a next one is timed from now
                self._timers.pop((ga.decl.name, self._instance_of(ga)), None)
        self._track()
        self.history.append(step)
        return step

    # ---- time: the spec's timed actions (`timed:`) fire when their timers run out
    def _instance_of(self, ga) -> str:
        return ga.action.kwargs[ga.decl.timed.instance]

    def _timed_groups(self) -> dict:
        """(timed action, instance label) -> its ground actions (one per choice of the
        other parameters), built once per System."""
        groups = getattr(self.system, "_timed_groups", None)
        if groups is None:
            groups = {}
            for ga in self.system.actions:
                if ga.decl.timed is not None:
                    groups.setdefault((ga.decl.name, self._instance_of(ga)), []).append(ga)
            self.system._timed_groups = groups
        return groups

    def _track(self) -> None:
        """A timer runs while its action is possible (some choice of it would be accepted) and
        starts the moment it becomes so: an idle card's from when it went idle (RPM-2), a
        reset attempt's from when it started (RST-2, RST-3)."""
        state = self.state
        for key, gas in self._timed_groups().items():
            if any(self.system.step(state, ga).accepted for ga in gas):
                self._timers.setdefault(key, self.clock_ms)
            else:
                self._timers.pop(key, None)
        view = self.view()
        for inst in self.pfs():               # RPM-5: last_busy is when the card was last in use
            card = view.of(inst)
            if card.rpm_power == "active" and card.usage_count > 0:
                self.device.cards[inst.index].last_busy_ms = self.clock_ms

    def running_timers(self) -> set:
        """(timed action, instance label) of every timer running now."""
        return set(self._timers)

    def _duration_ms(self, key) -> int:
        timed = self.spec.actions[key[0]].timed
        if timed.after_hook is None:
            return timed.after_ms
        card = self.system.layout.labels[key[1]]          # rpm_sleep_delay: the card's, as written
        return self.device.sleep_delay_ms(self.roles.card_index(card))

    def time_left_ms(self, action: str, label: str | None = None) -> int | None:
        """How long until timed `action` (of instance `label`, or the first running) fires by
        itself, or None when its timer is not running."""
        due = [since + self._duration_ms(key) for key, since in sorted(self._timers.items())
               if key[0] == action and label in (None, key[1])]
        return max(0, due[0] - self.clock_ms) if due else None

    def _time_of(self, ga) -> None:
        """A step that time brings about takes its time however it comes (applied directly, a
        command that waits, `sleep`): the clock moves to when its timer runs out, so a host
        that sleeps and one that applies the step show the same clock and what depends on it
        (last_busy, dmesg). Other timers do not fire on the way (docs/device-model.md, Time)."""
        if ga.decl.timed is None:
            return
        key = (ga.decl.name, self._instance_of(ga))
        if key in self._timers:
            self.clock_ms = max(self.clock_ms, self._timers[key] + self._duration_ms(key))

    def _next_due(self):
        """(due clock_ms, key) of the timer that runs out first, or None."""
        return min(((since + self._duration_ms(key), key) for key, since in self._timers.items()), default=None)

    def timed_choice(self, action: str) -> dict:
        """The parameters timed `action` would fire with now, as its hooks choose them
        (reset_succeeds: true unless the host injects a failing attempt)."""
        return {pname: "true" if self.failing_resets == 0 else "false"
                for pname, hook in self.spec.actions[action].timed.choose if hook == "reset_succeeds"}

    def _fire(self, key) -> Step:
        """The timed action of `key`, its other parameters as its hooks choose them."""
        decl = self.spec.actions[key[0]]
        params = {decl.timed.instance: key[1], **self.timed_choice(key[0])}
        if any(hook == "reset_succeeds" for _, hook in decl.timed.choose):
            self.failing_resets = max(0, self.failing_resets - 1)      # that attempt is made
        step = self.apply(key[0], {p.name: params[p.name] for p in decl.params})
        if not step.accepted:                       # not this choice: the timer starts over
            self._timers[key] = self.clock_ms
        return step

    def advance(self, ms: int) -> list:
        """Let `ms` milliseconds pass: every timer that runs out meanwhile fires, in the order
        they run out, at its time (a reset attempt ends, an idle card suspends: RST-2, RPM-2).
        The accepted steps, in order."""
        if ms < 0:
            raise HostError("time only moves forward")
        end, fired = self.clock_ms + ms, []
        for _ in range(MAX_FIRINGS):
            due = self._next_due()
            if due is None or due[0] > end:
                break
            self.clock_ms = max(self.clock_ms, due[0])
            step = self._fire(due[1])
            if step.accepted:
                fired.append(step)
        else:
            raise HostError(f"more than {MAX_FIRINGS} timed actions in {ms} ms: the spec's timers never settle")
        self.clock_ms = max(self.clock_ms, end)
        return fired

    def wait_out(self, action: str, label: str | None = None) -> list:
        """Fire timed `action` (of instance `label`, or any) until its timer no longer runs: a
        running reset to its end, escalating as the spec says (RST-2, RST-3), as a command
        that waits for it does. The steps, in order."""
        steps = []
        for _ in range(64):
            running = sorted(k for k in self._timers if k[0] == action and label in (None, k[1]))
            if not running:
                return steps
            key = running[0]
            self.clock_ms = max(self.clock_ms, self._timers[key] + self._duration_ms(key))
            steps.append(self._fire(key))
        raise HostError(f"{action} of {label or 'the host'} still runs after 64 firings")

    def ras(self, ip: str, device: str) -> Step:
        """A RAS error in IP block `ip` (SRIOV-4) of `device` (a card or VF label): a
        VF-only block reports to its VF, any other block to the PF (RST-5, RST-6)."""
        classes = self.spec.device.get("ip_blocks", {})
        if ip not in classes:
            raise HostError(f"unknown IP block '{ip}'; the blocks are: {', '.join(classes)}")
        layout = self.system.layout
        if device not in layout.labels:
            raise HostError(f"no device '{device}' on this host")
        inst = layout.labels[device]
        is_vf = self.roles.role(inst) == "vf"
        if classes[ip] == "vf_only":
            if not is_vf:
                raise HostError(f"{ip} is a VF-only block: name the VF it belongs to "
                                f"({', '.join(v.label for v in self.roles.instances(layout, 'vf')[:2]) or 'none here'} ...)")
            return self.act("ras_vf_only", inst)
        return self.act("ras_card", self.pfs()[self.roles.card_index(inst)], ip=classes[ip])

    def reset(self) -> None:
        self.reset_to(self.initial)

    def place(self, state: tuple) -> None:
        """Stand in `state` of the host's system, with a fresh device model and clock (what
        a user would see there, as far as the model's state decides it)."""
        self.runtime.reset(state)
        self._fresh()

    def observation(self) -> dict:
        """The model's own side of an observation, which no user of a real host sees: every
        variable and quantity, the device model's contents, the clock. What a user sees is
        `visible.of_host`; the protocol's `observe` adds this only when asked (`model: true`)."""
        return {"state": self.describe(), "quantities": self.quantities(), "device": self.device.summary(),
                "clock_ms": self.clock_ms}

    def _log(self, lines, step):
        for line in lines:
            entry = f"[{self.clock_ms / 1000:12.6f}] {line}"
            self.kernel_log.append(entry)
            step.log.append(line)


def outcome_dict(outcome) -> dict:
    """An outcome as the adapter protocol sends it."""
    if isinstance(outcome, Accepted):
        return {"accepted": True, "transition": outcome.transition, "output": list(outcome.observations)}
    if isinstance(outcome, Refused):
        return {"accepted": False, "errno": outcome.errno, "message": outcome.message, "reqs": list(outcome.reqs)}
    if isinstance(outcome, OutOfBounds):
        return {"accepted": False, "errno": "EOVERFLOW", "message": f"a counter of the reference host would pass "
                f"{UNBOUNDED}: {outcome.message}"}
    raise TypeError(outcome)
