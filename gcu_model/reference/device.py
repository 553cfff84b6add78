"""The device model under the reference host: what a card holds that the spec keeps
abstract (issue 5). Registers of BAR0 with the secured ranges of constants.yaml `bits:`,
L2/L3 contents per VF slice, firmware reloads, the runtime-PM clock values.

The model decides; this follows: `after()` is called with every accepted action and the
rule that fired, and updates the concrete contents the way that rule says (a PF FLR or a
hot reset zeroes L2 and L3 and reloads the firmware; a VF FLR clears only its VF's slice).
"""
from __future__ import annotations

from dataclasses import dataclass, field

FILL = 0xA5                     # what a workload leaves in memory (any non-zero byte)


def sleep_delays(spec) -> tuple:
    """(the default, a sample custom) rpm_sleep_delay in ms, as surface.yaml's write map of the
    file reads them (RPM-2): the value that means `custom: false`, the one that means true."""
    for f in spec.surface.files if spec.surface is not None else ():
        w = f.write
        if w is not None and w.hook == "rpm_sleep_delay" and w.map:
            default = next((ms for ms, custom in w.map.items() if custom is False), None)
            custom = next((ms for ms, c in w.map.items() if c is True), None)
            if default is not None and custom is not None:
                return int(default), int(custom)
    from ..spec.errors import InvalidSpec
    raise InvalidSpec("surface.yaml: the rpm_sleep_delay file's write maps no default (false) and custom "
                      "(true) delay, which the device model starts from", "surface.yaml", None)


@dataclass
class CardDevice:
    index: int
    bdf: str
    registers: dict = field(default_factory=dict)      # BAR0 offset -> 32-bit value
    bar1: dict = field(default_factory=dict)           # BAR1 offset -> 32-bit value (no secured ranges)
    quirk_logging: bool = False                        # `logging = 1` in its QEMU access-control file (QEMU-4)
    l2: int = 0                                         # fill byte of the L2 cache
    l3: dict = field(default_factory=dict)              # "pf" or VF index -> fill byte of its slice
    fw_reloads: int = 0
    rpm_sleep_delay_ms: int = 0                         # the default of sleep_delays() once built
    last_busy_ms: int = 0


class DeviceModel:
    def __init__(self, host):
        self.host = host
        spec = host.spec
        # FW-2: each card's secured ranges are those of its own product (a host may mix them)
        ranges = (spec.bits or {}).get("secured_ranges", {})
        config = host.system.config
        self.secured = [tuple(ranges.get(config.value_of("product", inst.index), ())) for inst in host.pfs()]
        self.default_delay_ms, self.custom_delay_ms = sleep_delays(spec)
        self.cards = [CardDevice(inst.index, bdf_of(inst.index), l3={"pf": 0},
                                 rpm_sleep_delay_ms=self.default_delay_ms) for inst in host.pfs()]
        self.driver_override: dict = {}                # PF or VF label -> the name written, or None
        self.detached: set = set()                     # left enflame through its unbind file, no driver yet
        self.mdev_holders: dict = {}                   # mdev UUID -> the VM that holds it

    def sleep_delay_ms(self, card: int) -> int:
        """rpm_sleep_delay: the value written, while the model says a custom one is set (RPM-2)."""
        custom = self.host.view().pf[card].rpm_delay_custom
        return self.cards[card].rpm_sleep_delay_ms if custom else self.default_delay_ms

    def summary(self) -> dict:
        """Per card what the conformance observations compare: L2 and every L3 slice (0 when
        zeroed, the fill byte after use), firmware reloads (RST-1..3)."""
        labels = self.host.pfs()
        return {labels[c.index].label: {"l2": c.l2, "l3": {str(k): v for k, v in sorted(c.l3.items(), key=str)},
                                        "fw_reloads": c.fw_reloads} for c in self.cards}

    def is_secured(self, card: int, offset: int) -> bool:
        return any(lo <= offset <= hi for lo, hi in self.secured[card])

    def reaches(self, before: tuple, action, inst, flags: tuple) -> bool:
        """Did the access reach the register? As the bit-level proof reads the spec
        (prove/bitlevel.py): the step sets one of the sticky `flags` of the instance from
        false (FW-3: secured_reg_written / plain_reg_written; QEMU-3: bar0_written)."""
        system = self.host.system
        state = list(before)
        slots = [system.layout.slot_of.get((inst.family, inst.index, f)) for f in flags]
        for slot in slots:
            if slot is not None:
                state[slot] = False
        outcome = system.step(tuple(state), action)
        post = getattr(outcome, "state", None)
        return getattr(outcome, "accepted", False) and any(slot is not None and post[slot] for slot in slots)

    def read_register(self, card: int, offset: int, blocked: bool) -> int:
        """FW-3: a read the firewall blocks gives 0xFFFFFFFF."""
        return 0xFFFFFFFF if blocked else self.cards[card].registers.get(offset, 0)

    def write_register(self, card: int, offset: int, value: int, reached: bool, bar: int = 0) -> None:
        if reached:
            (self.cards[card].registers if bar == 0 else self.cards[card].bar1)[offset] = value & 0xFFFFFFFF

    # ---- following the model
    def after(self, ga, before: tuple, outcome) -> None:
        name = ga.decl.name
        host, roles = self.host, self.host.roles
        view = host.view()
        layout = host.system.layout
        self.detached = {label for label in self.detached if view.of(layout.labels[label]).binding == "vfio"}
        self.mdev_holders = {u: vm for u, vm in self.mdev_holders.items() if view.of(layout.labels[vm]).mdev_card}
        card = self._card_of(ga)
        vm = roles.arg(ga.action, "vm", layout)
        if name == "reset_completes" and ga.action.kwargs.get("ok") == "true" and card is not None:
            kind = host.view(before).pf[card].reset
            self._reset_contents(card, kind, before)
        elif name in ("start_vm_job", "open_pf", "open_vf", "tool_open") and card is not None:
            self._dirty(card, ga, before)
        elif name == "vm_efsmi_reset" and card is not None and vm is not None and view.of(vm).pf_dev:
            # QEMU-1, QEMU-5: a reset passed through to a whole card resets it as on the host
            self._reset_contents(card, "hot" if ga.action.kwargs["kind"] == "hot" else "pf_flr", before)
        elif name == "write_rpm_sleep_delay" and card is not None:
            # RPM-2: the model knows only default or custom; a custom delay given as an action
            # is the sample 5000 ms (ASSUMPTION), which a write to rpm_sleep_delay replaces
            custom = ga.action.kwargs.get("custom") == "true"
            self.cards[card].rpm_sleep_delay_ms = self.custom_delay_ms if custom else self.default_delay_ms
        elif name == "reboot":
            self.detached.clear()
            for c in self.cards:
                c.registers.clear()
                c.bar1.clear()
                c.l2, c.l3 = 0, {"pf": 0}

    def _card_of(self, ga):
        """The card an action is about: its PF's, its VF's, or the device its VM holds."""
        roles, layout = self.host.roles, self.host.system.layout
        for role in ("pf", "vf"):
            inst = roles.arg(ga.action, role, layout)
            if inst is not None:
                return roles.card_index(inst)
        vm = roles.arg(ga.action, "vm", layout)
        if vm is not None:
            held = self.host.view().of(vm)
            held = held.vf_dev or held.pf_dev
            if held:
                return roles.card_index(layout.labels[held])
        return None

    def _dirty(self, card, ga, before):
        c = self.cards[card]
        c.l2 = FILL
        roles, layout = self.host.roles, self.host.system.layout
        vf = roles.arg(ga.action, "vf", layout)
        vm = roles.arg(ga.action, "vm", layout)
        if vf is not None:
            c.l3[vf.index] = FILL
        elif vm is not None:
            held = self.host.view(before).of(vm).vf_dev
            c.l3[layout.labels[held].index if held else "pf"] = FILL
        else:
            c.l3["pf"] = FILL

    def _reset_contents(self, card, kind, before):
        c = self.cards[card]
        if kind == "vf_flr":                           # RST-1: only that VF's resources
            flr_vf = self.host.view(before).pf[card].flr_vf
            if flr_vf:
                c.l3[self.host.system.layout.labels[flr_vf].index] = 0
            return
        c.l2 = 0                                       # RST-2, RST-3: L2 and L3 zeroed, firmware reloaded
        c.l3 = {k: 0 for k in c.l3}
        c.fw_reloads += 1
        if kind == "hot":
            c.registers.clear()
            c.bar1.clear()


def bdf_of(index: int) -> str:
    from ..shell.commands import bdf
    return bdf(index)
