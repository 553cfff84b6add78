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


@dataclass
class CardDevice:
    index: int
    bdf: str
    registers: dict = field(default_factory=dict)      # BAR0 offset -> 32-bit value
    l2: int = 0                                         # fill byte of the L2 cache
    l3: dict = field(default_factory=dict)              # "pf" or VF index -> fill byte of its slice
    fw_reloads: int = 0
    rpm_sleep_delay_ms: int = 10000
    last_busy_ms: int = 0


class DeviceModel:
    def __init__(self, host):
        self.host = host
        spec = host.spec
        self.secured = tuple((spec.bits or {}).get("secured_ranges", {}).get(host.system.config.values["product"], ()))
        self.cards = [CardDevice(inst.index, bdf_of(inst.index), l3={"pf": 0})
                      for inst in host.system.layout.instances["card"]]
        self.driver_override: dict = {}                # PF or VF label -> the name written, or None

    def sleep_delay_ms(self, card: int) -> int:
        """rpm_sleep_delay: the value written, while the model says a custom one is set (RPM-2)."""
        label = self.host.system.layout.instances["card"][card].label
        custom = self.host.describe().get(f"{label}.rpm_delay_custom", False)
        return self.cards[card].rpm_sleep_delay_ms if custom else 10000

    def is_secured(self, offset: int) -> bool:
        return any(lo <= offset <= hi for lo, hi in self.secured)

    # ---- following the model
    def after(self, ga, before: tuple, outcome) -> None:
        name = ga.decl.name
        card = self._card_of(ga)
        if name == "reset_completes" and dict(ga.action.params).get("ok") == "true" and card is not None:
            kind = self.host.system.describe(before)[f"card{card}.reset"]
            self._reset_contents(card, kind, before)
        elif name in ("start_vm_job", "open_pf", "open_vf", "tool_open") and card is not None:
            self._dirty(card, ga, before)
        elif name == "reboot":
            for c in self.cards:
                c.registers.clear()
                c.l2, c.l3 = 0, {"pf": 0}

    def _card_of(self, ga):
        params = dict(ga.action.params)
        layout = self.host.system.layout
        if "card" in params:
            return layout.labels[params["card"]].index
        if "vf" in params:
            return layout.labels[params["vf"]].parent
        if "vm" in params:
            d = self.host.describe()
            vm = params["vm"]
            held = d.get(f"{vm}.vf_dev") or d.get(f"{vm}.pf_dev")
            if held:
                inst = layout.labels[held]
                return inst.parent if inst.family == "vf" else inst.index
        return None

    def _dirty(self, card, ga, before):
        c = self.cards[card]
        c.l2 = FILL
        params = dict(ga.action.params)
        if "vf" in params:
            c.l3[self.host.system.layout.labels[params["vf"]].index] = FILL
        elif "vm" in params:
            held = self.host.system.describe(before).get(f"{params['vm']}.vf_dev")
            key = self.host.system.layout.labels[held].index if held else "pf"
            c.l3[key] = FILL
        else:
            c.l3["pf"] = FILL

    def _reset_contents(self, card, kind, before):
        c = self.cards[card]
        if kind == "vf_flr":                           # RST-1: only that VF's resources
            flr_vf = self.host.system.describe(before)[f"card{card}.flr_vf"]
            if flr_vf:
                c.l3[self.host.system.layout.labels[flr_vf].index] = 0
            return
        c.l2 = 0                                       # RST-2, RST-3: L2 and L3 zeroed, firmware reloaded
        c.l3 = {k: 0 for k in c.l3}
        c.fw_reloads += 1
        if kind == "hot":
            c.registers.clear()


def bdf_of(index: int) -> str:
    from ..shell.commands import bdf
    return bdf(index)
