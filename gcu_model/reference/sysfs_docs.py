"""What each file of the reference host's sysfs shows and takes, by path pattern, for the
generated protocol reference (docs/generated/protocol.md, issue 7).

The files themselves, which exist when, and their sample texts are found by walking
`Sysfs` (sysfs.py) along explored paths; this table only says in words what a read shows
and what a write does. `docs/generated/protocol.md` is built from both, and a test keeps
them in step: every pattern the walk finds is described here, and every entry is found.
The module parameters the model keeps as text are described from constants.yaml.

Patterns: PF and VF stand for a PCI address (card N is 0000:0(N+1):00.0, its VF j
function j+1); gcuN is the KMD's device N (VER-4), gcuX a VF's node on the host KMD;
N under debugfs the card's number; UUID an mdev.
"""
from __future__ import annotations

MODULE = "/sys/module/enflame"
DRIVER = "/sys/bus/pci/drivers/enflame"
CLASS = "/sys/class/enflame/gcuN/device"

FILES = {
    f"{MODULE}/version": ("the KMD version", ""),
    f"{MODULE}/parameters/reset_enable": ("the loaded value, in decimal (PARAM-4)", ""),
    f"{MODULE}/parameters/vgcu_num": ("the loaded value (PROD-9)", ""),
    f"{MODULE}/parameters/irq_poll_interval": ("the loaded value (PARAM-1)", ""),
    f"{MODULE}/parameters/gcu_whitelist_str": ("the loaded value (PARAM-1)", ""),
    f"{MODULE}/drivers/pci:enflame/gcu_ioctl_version": ("MAJOR.MINOR.PATCH (VER-2)", ""),
    f"{DRIVER}/reset_enable": ("the word in hex (RST-9)",
                               "a word of constants.yaml `bits: reset_enable`; EINVAL otherwise"),
    f"{DRIVER}/bind": ("", "a BDF that enflame/unbind left driverless: back to the KMD; else EBUSY"),
    f"{DRIVER}/unbind": ("", "a BDF: leaves the KMD, driverless until vfio-pci/bind (SRIOV-8)"),
    "/sys/bus/pci/drivers/vfio-pci/bind": ("", "a BDF: to vfio-pci (SRIOV-3: never an S60 PF); ENODEV for none"),
    "/sys/bus/pci/drivers/vfio-pci/unbind": ("", "a BDF: back to the KMD"),
    "/sys/bus/pci/rescan": ("", "`1`: probe removed cards again"),
    # device nodes: neither read nor written as files; they exist while the KMD offers them
    "/dev/gcuN": ("", ""),
    "/dev/gcuX": ("", ""),
    "/dev/vgcuN": ("", ""),
    "/sys/bus/pci/devices/PF/vendor": ("the PCI vendor id", ""),
    "/sys/bus/pci/devices/PF/device": ("the PCI device id", ""),
    "/sys/bus/pci/devices/PF/driver_override": ("the name, or (null)", "a driver name (recorded only)"),
    "/sys/bus/pci/devices/PF/reset": ("", "`1`: PF FLR (RST-2)"),
    "/sys/bus/pci/devices/PF/remove": ("", "`1`: the card leaves the bus"),
    "/sys/bus/pci/devices/PF/sriov_totalvfs": ("the VF slots (SRIOV-1)", ""),
    "/sys/bus/pci/devices/PF/sriov_numvfs": ("the VFs enabled",
                                            "a count: Linux's order of checks (EINVAL, ERANGE, ENOENT, EBUSY)"),
    "/sys/bus/pci/devices/PF/device_id": ("the KMD's logical device id (VER-4)", ""),
    "/sys/bus/pci/devices/PF/gcu_reload": ("", "`1`: hot reset (RST-2)"),
    "/sys/bus/pci/devices/VF/vendor": ("the PCI vendor id", ""),
    "/sys/bus/pci/devices/VF/device": ("the VF's PCI device id", ""),
    "/sys/bus/pci/devices/VF/driver_override": ("the name, or (null)", "a driver name (recorded only)"),
    "/sys/bus/pci/devices/VF/reset": ("", "`1`: VF FLR (RST-2)"),
    "/sys/bus/pci/devices/VF/remove": ("", "EBUSY: a single VF is not removed; write 0 to the PF's sriov_numvfs"),
    "/sys/bus/mdev/devices/UUID/mdev_type/name": ("the mdev type (PROD-8)", ""),
    "/sys/bus/mdev/devices/UUID/mdev_type/device_api": ("vfio-pci", ""),
    "/sys/bus/mdev/devices/UUID/parent": ("the card's BDF", ""),
    f"{CLASS}/fw_informations": ("firmware versions and reloads", ""),
    f"{CLASS}/gcu_reload": ("", "`1`: hot reset (RST-2)"),
    f"{CLASS}/standby/disable_ioctl": ("`0`/`1` (STBY-1)", "`0`/`1`"),
    f"{CLASS}/standby/whitelist": ("one name a line (STBY-2)", "`add:NAME`/`delete:NAME`"),
    f"{CLASS}/standby/suspend_thread": ("`0`/`1` (STBY-3)", "`0`/`1`"),
    f"{CLASS}/power_stock/enable_power_stock": ("`0`/`1` (PSTK-1)", "`0`/`1`"),
    f"{CLASS}/rpm/switch": ("`start`/`stop` (RPM-1)", "`start`/`stop`"),
    f"{CLASS}/rpm/rpm_sleep_delay": ("ms (RPM-2)", "ms"),
    f"{CLASS}/rpm/status": ("`active`/`suspended` (RPM-3)", ""),
    f"{CLASS}/rpm/usage_count": ("open handles", ""),
    f"{CLASS}/rpm/whitelist": ("one name a line (RPM-5)", "`add:NAME`/`delete:NAME`"),
    f"{CLASS}/rpm/wakeup_count": ("wake-ups", ""),
    f"{CLASS}/rpm/last_busy": ("ms since the card was last busy", ""),
    "/sys/class/enflame/gcuX/device/rpm/switch": ("`start`/`stop`: a VF's own switch (RPM-1)", "`start`/`stop`"),
    "/sys/kernel/debug/enflame/N/dump/dump_reg_group": ("the secured ranges, `secured 0xLO-0xHI` a line (FW-1)", ""),
}


def describe(pattern: str, spec) -> tuple | None:
    """(what a read shows, what a write does) for a path pattern, or None: FILES, and the
    parameters the model keeps as text, named in constants.yaml `device: module_parameters`."""
    if pattern in FILES:
        return FILES[pattern]
    folder, _, name = pattern.rpartition("/")
    defaults = spec.device.get("module_parameters", {})
    if folder == f"{MODULE}/parameters" and name in defaults:
        return (f"the loaded value (default {defaults[name]}): an option the model keeps as text (PARAM-1)", "")
    return None
