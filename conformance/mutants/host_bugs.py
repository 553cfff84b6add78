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
