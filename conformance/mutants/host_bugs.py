"""Host-level bugs of the mutants (conformance/mutants/*.yaml `host:`): each function
takes the reference host just after a reset and breaks it the way a real driver could.
Model decisions stay the spec's; what goes wrong is what the device model holds."""
from __future__ import annotations

import types


def l3_kept_on_pf_flr(host):
    """RST-2: a PF FLR reloads the firmware but leaves L2/L3 as they were."""
    device = host.device
    original = device._reset_contents

    def reset_contents(self, card, kind, before):
        if kind == "pf_flr":
            self.cards[card].fw_reloads += 1
            return
        original(card, kind, before)
    device._reset_contents = types.MethodType(reset_contents, device)


def hot_reset_skips_fw_reload(host):
    """RST-3: a hot reset zeroes L2/L3 but leaves the running firmware in place."""
    device = host.device
    original = device._reset_contents

    def reset_contents(self, card, kind, before):
        reloads = self.cards[card].fw_reloads
        original(card, kind, before)
        if kind == "hot":
            self.cards[card].fw_reloads = reloads
    device._reset_contents = types.MethodType(reset_contents, device)


def vf_flr_does_pf_flr_cleanup(host):
    """RST-1: a VF FLR clears what a PF FLR clears: every firmware reloaded, L2 and the
    L3 of every VF zeroed, instead of the VF-only resources of its own VF."""
    device = host.device
    original = device._reset_contents

    def reset_contents(self, card, kind, before):
        original(card, "pf_flr" if kind == "vf_flr" else kind, before)
    device._reset_contents = types.MethodType(reset_contents, device)
