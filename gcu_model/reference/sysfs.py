"""The reference host's sysfs (and debugfs) files: read and write by path, with the text
and errno Linux gives (issue 5).

A write is parsed the way the kernel parses it (a bad number is EINVAL before anything
else), then becomes one action of the spec; the spec's refusal is the write's errno. A
read shows the model's state, its quantities and the device model. Files exist only
while what provides them exists: the KMD's files while it drives the card, a VF's files
while the VF exists. A missing file is ENOENT, a directory read or written EISDIR, a write
to a read-only file EACCES, as for root on Linux.

Texts the guide does not show are ASSUMPTIONs of this module: reset_enable reads its
word (constants.yaml `bits:`) in hex, the module parameter in decimal; standby and rpm
switches read `0`/`1` and `start`/`stop`; whitelists one name a line, in the order added; rpm/status `active`
or `suspended`. So is how the two-step hand-over to vfio-pci maps onto the spec's one
step (bind_pf_vfio / bind_vf_vfio, which leaves the KMD and binds vfio-pci): a BDF
written to enflame/unbind takes that step at once and leaves the device driverless (no
VM can take it) until it is written to vfio-pci/bind, or back to enflame/bind, which
takes the spec's unbind_*_vfio step. Writing to enflame/bind a device that did not leave
it so is EBUSY (the KMD probes its cards when it loads or on a rescan), and so is removing
a single VF (write 0 to the PF's sriov_numvfs).
"""
from __future__ import annotations

import re

from ..shell.commands import VGCU_VALUES
from ..shell.commands import bdf as pf_bdf
from .host import HostError, outcome_dict



def mdev_uuid(card: int, k: int) -> str:
    return f"{card:08x}-0000-4000-8000-{k:012x}"



def card_index(inst) -> int:
    """The card a card or VF instance is, or belongs to."""
    return inst.index if inst.family == "card" else inst.parent

class SysfsError(Exception):
    def __init__(self, errno: str, message: str):
        super().__init__(f"{message} ({errno})")
        self.errno = errno
        self.message = message


def vf_bdf(card_index: int, vf_position: int) -> str:
    """VF j of card N: function j+1 of the PF's device (ASSUMPTION: the VF offset is 1)."""
    return pf_bdf(card_index)[:-1] + str(vf_position + 1)


_NUMBER = re.compile(r"^\s*(0[xX][0-9a-fA-F]+|\d+)\s*$")


def _int(text: str) -> int:
    m = _NUMBER.match(text)
    if not m:
        raise SysfsError("EINVAL", f"'{text.strip()}' is not a number")
    return int(m.group(1), 0)


class Sysfs:
    def __init__(self, host):
        self.host = host

    # ---- names
    def _cards(self):
        return self.host.system.layout.instances["card"]

    def _vfs(self):
        return self.host.system.layout.instances.get("vf", [])

    def devices(self) -> dict:
        """BDF -> ('card', inst) or ('vf', inst), for the functions on the bus now."""
        d = self.host.describe()
        out = {}
        for c in self._cards():
            if d[f"{c.label}.binding"] != "removed":
                out[pf_bdf(c.index)] = ("card", c)
        for v in self._vfs():
            if d.get(f"{v.label}.binding", "absent") != "absent":
                pos = v.index - v.parent * self.host.system.layout.count("vf")
                out[vf_bdf(v.parent, pos)] = ("vf", v)
        return out

    def mdevs(self) -> dict:
        """UUID -> card instance, for the mdev devices the cards offer now (PROD-8, INST-4).
        The UUID carries the card's index and the mdev's number (ASSUMPTION: the virt package
        names them; the guide shows none)."""
        q = self.host.quantities()
        return {mdev_uuid(c.index, k): c for c in self._cards() for k in range(q.get(f"{c.label}.mdev_count", 0))}

    def gcu_nodes(self) -> dict:
        """gcuN -> card instance, for the cards the KMD drives (N: the logical device_id, VER-4)."""
        q = self.host.quantities()
        return {f"gcu{q[f'{c.label}.device_id']}": c for c in self._cards() if q[f"{c.label}.driven_by_kmd"]}

    def vf_nodes(self) -> dict:
        """gcuX -> VF instance, for the VFs on the host KMD. VFs are numbered after the cards,
        in bus order, among the VFs that exist; one handed to vfio-pci keeps its number but
        has no node (ASSUMPTION: the guide says only that each VF gets a /dev/gcuX)."""
        d = self.host.describe()
        live = [v for v in self._vfs() if d.get(f"{v.label}.binding", "absent") != "absent"]
        return {f"gcu{len(self._cards()) + k}": v for k, v in enumerate(live)
                if d[f"{v.label}.binding"] == "enflame"}

    def vgcu_stride(self) -> int:
        """How many /dev/vgcuN numbers each card has: the most vgcu nodes any card of the
        host can offer (constants.yaml vgcu_spatial, vgcu_time_sliced; PROD-9)."""
        config = self.host.system.config
        return max([1] + [config.value_of(name, c.index) for c in self._cards()
                          for name in ("vgcu_spatial", "vgcu_time_sliced")])

    def vgcu_nodes(self) -> dict:
        """vgcuN -> card instance: card C offers vgcu{stride*C + k}, k < its vgcu_count
        (PROD-9, INST-5; ASSUMPTION: the guide shows /dev/vgcuN but not how cards share N)."""
        q = self.host.quantities()
        stride = self.vgcu_stride()
        return {f"vgcu{stride * c.index + k}": c for c in self._cards()
                for k in range(q.get(f"{c.label}.vgcu_count", 0))}

    def dev_nodes(self) -> list:
        """The names under /dev the KMD provides now: gcuN of its cards and VFs, vgcuN."""
        return sorted([*self.gcu_nodes(), *self.vf_nodes(), *self.vgcu_nodes()])

    # ---- the tree
    def read(self, path: str) -> str:
        kind, node = self._resolve(path)
        if kind == "dir":
            raise SysfsError("EISDIR", f"{path}: Is a directory")
        reader = node[0]
        if reader is None:
            raise SysfsError("EACCES", f"{path}: Permission denied")
        return reader()

    def write(self, path: str, text: str) -> None:
        kind, node = self._resolve(path)
        if kind == "dir":
            raise SysfsError("EISDIR", f"{path}: Is a directory")
        writer = node[1]
        if writer is None:
            raise SysfsError("EACCES", f"{path}: Permission denied")
        writer(text)

    def listdir(self, path: str) -> list:
        kind, node = self._resolve(path)
        if kind != "dir":
            raise SysfsError("ENOTDIR", f"{path}: Not a directory")
        return sorted(node)

    def files(self) -> list:
        """Every file path of the tree as it is now (one walk)."""
        return list(self.snapshot())

    def snapshot(self) -> dict:
        """path -> (read() or None, write(text) or None) for every file of the tree as it is
        now, built in one walk (reading a file by path builds the tree each time)."""
        out = {}

        def walk(node, prefix):
            for name, child in sorted(node.items()):
                path = f"{prefix}/{name}"
                if isinstance(child, dict):
                    walk(child, path)
                else:
                    out[path] = child
        walk(self._tree(), "")
        return out

    def mode(self, path: str) -> tuple:
        """('dir', True, False) or ('file', readable, writable); SysfsError when missing."""
        kind, node = self._resolve(path)
        if kind == "dir":
            return ("dir", True, False)
        return ("file", node[0] is not None, node[1] is not None)

    def exists(self, path: str) -> bool:
        try:
            self._resolve(path)
            return True
        except SysfsError:
            return False

    def is_dir(self, path: str) -> bool:
        try:
            return self._resolve(path)[0] == "dir"
        except SysfsError:
            return False

    def _resolve(self, path: str):
        parts = [p for p in path.split("/") if p]
        tree = self._tree()
        node = tree
        for p in parts:
            if not isinstance(node, dict) or p not in node:
                raise SysfsError("ENOENT", f"{path}: No such file or directory")
            node = node[p]
        return ("dir", node) if isinstance(node, dict) else ("file", node)

    def _tree(self) -> dict:
        host = self.host
        d = host.describe()
        loaded = d["host.kmd"] == "loaded"
        root: dict = {"sys": {"module": {}, "bus": {"pci": {"devices": {}, "drivers": {}}}, "class": {},
                              "kernel": {"debug": {}}},
                "dev": {name: (None, None) for name in self.dev_nodes()}}
        sys_ = root["sys"]
        pci = sys_["bus"]["pci"]
        pci["rescan"] = (None, self._w_rescan)
        pci["drivers"]["vfio-pci"] = {"bind": (None, self._w_vfio_bind), "unbind": (None, self._w_vfio_unbind)}
        if loaded:
            sys_["module"]["enflame"] = {
                "version": (lambda: self._device_info("kmd_version") + "\n", None),
                "parameters": {**{name: (self._param_reader(name), None)
                                  for name in ("reset_enable", "vgcu_num", "irq_poll_interval", "gcu_whitelist_str")},
                               **{name: (lambda n=name: f"{host.options.value(n)}\n", None)
                                  for name in host.options.defaults}},
                "drivers": {"pci:enflame": {"gcu_ioctl_version": (lambda: self._device_info("ioctl_version") + "\n",
                                                                  None)}},
            }
            pci["drivers"]["enflame"] = {"reset_enable": (self._r_reset_enable, self._w_reset_enable),
                                         "bind": (None, self._w_enflame_bind),
                                         "unbind": (None, self._w_enflame_unbind)}
            sys_["class"]["enflame"] = {}
            sys_["kernel"]["debug"]["enflame"] = {}
        for addr, (kind, inst) in self.devices().items():
            pci["devices"][addr] = self._device_dir(kind, inst, d)
        mdevs = self.mdevs()
        if mdevs:
            sys_["bus"]["mdev"] = {"devices": {uuid: {
                "mdev_type": {"name": (lambda: "enflame-1-cluster\n", None),
                              "device_api": (lambda: "vfio-pci\n", None)},
                "parent": (lambda c=card: f"{pf_bdf(c.index)}\n", None)} for uuid, card in mdevs.items()}}
        if loaded:
            for name, card in self.gcu_nodes().items():
                sys_["class"]["enflame"][name] = {"device": self._class_device_dir(card, d)}
                sys_["kernel"]["debug"]["enflame"][name[3:]] = {"dump": {"dump_reg_group": (
                    lambda c=card: self._r_dump_reg_group(c), None)}}
            for name, vf in self.vf_nodes().items():            # RPM-1: every VF has its own switch
                sys_["class"]["enflame"][name] = {"device": {"rpm": {"switch": (
                    lambda v=vf: ("start" if d[f"{v.label}.rpm_vf_on"] else "stop") + "\n",
                    lambda t, v=vf: self._w_rpm_switch_vf(v, t))}}}
        return root

    def _device_dir(self, kind, inst, d) -> dict:
        label = inst.label
        config = self.host.system.config
        out = {
            "vendor": (lambda: f"0x{self._device_info('pci_vendor'):04x}\n", None),
            "device": (lambda: f"0x{self.pci_device(kind, inst):04x}\n", None),
            "reset": (None, lambda t: self._w_reset(kind, inst, t)),
            "remove": (None, lambda t: self._w_remove(kind, inst, t)),
            "driver_override": (lambda: f"{self.host.device.driver_override.get(inst.label) or '(null)'}\n",
                                lambda t: self._w_driver_override(inst, t)),
        }
        if kind == "card":
            if config.value_of("supports_sriov", inst.index):
                out["sriov_totalvfs"] = (lambda: f"{config.value_of('vf_slots', inst.index)}\n", None)
                out["sriov_numvfs"] = (lambda: f"{d[f'{label}.numvfs']}\n",
                                       lambda t: self._w_numvfs(inst, t))
            if d[f"{label}.binding"] == "enflame" and d["host.kmd"] == "loaded":
                q = self.host.quantities()
                out["device_id"] = (lambda: f"{q[f'{label}.device_id']}\n", None)
                out["gcu_reload"] = (None, lambda t: self._w_gcu_reload(inst, t))
        return out

    def _class_device_dir(self, card, d) -> dict:
        label = card.label
        q = self.host.quantities()
        dev = self.host.device.cards[card.index]
        rpm = {
            "switch": (lambda: ("start" if d[f"{label}.rpm_on"] else "stop") + "\n",
                       lambda t: self._w_rpm_switch(card, t)),
            "rpm_sleep_delay": (lambda: f"{self.host.device.sleep_delay_ms(card.index)}\n",
                                lambda t: self._w_rpm_delay(card, t)),
            "status": (lambda: f"{d[f'{label}.rpm_power']}\n", None),
            "usage_count": (lambda: f"{q[f'{label}.usage_count']}\n", None),
            "whitelist": (lambda: "".join(f"{n}\n" for n in self.host.open_names.of(f"{label}.rpm_whitelist", d)),
                          lambda t: self._w_whitelist("write_rpm_whitelist", card, t)),
            "wakeup_count": (lambda: ("1" if d.get(f"{label}.rpm_woken") else "0") + "\n", None),
            "last_busy": (lambda: f"{self.host.clock_ms - dev.last_busy_ms}\n", None),
        }
        return {
            "fw_informations": (lambda: self._r_fw(card), None),
            "gcu_reload": (None, lambda t: self._w_gcu_reload(card, t)),
            "standby": {
                "disable_ioctl": (lambda: ("1" if d[f"{label}.ioctl_gate"] == "closed" else "0") + "\n",
                                  lambda t: self._w_bool("write_disable_ioctl", card, t)),
                "whitelist": (lambda: "".join(f"{n}\n" for n in self.host.open_names.of(f"{label}.standby_whitelist", d)),
                              lambda t: self._w_whitelist("write_standby_whitelist", card, t)),
                "suspend_thread": (lambda: ("1" if d[f"{label}.threads_asleep"] else "0") + "\n",
                                   lambda t: self._w_bool("write_suspend_thread", card, t)),
            },
            "power_stock": {"enable_power_stock": (lambda: ("1" if d[f"{label}.power_stock"] else "0") + "\n",
                                                   lambda t: self._w_bool("write_power_stock", card, t))},
            "rpm": rpm,
        }

    # ---- readers
    def _device_info(self, key):
        return self.host.spec.device[key]

    def pci_device(self, kind, inst):
        """The PCI device id of a card or VF: its own card's product's (PROD-1)."""
        product = self.host.system.config.value_of("product", card_index(inst))
        return self._device_info("vf_device" if kind == "vf" else "pci_device")[product]

    def _param_reader(self, name):
        def read():
            d = self.host.describe()
            if name == "reset_enable":                    # a module parameter reads in decimal
                return f"{self._reset_masks()[d['host.reset_enable']]}\n"
            if name == "vgcu_num":
                return VGCU_VALUES.get(d["host.vgcu_num_loaded"], "0") + "\n"
            if name == "irq_poll_interval":
                return ("0" if d["host.irq_poll_zero_loaded"] else "10") + "\n"
            card = d["host.whitelist_loaded"]
            return (pf_bdf(self.host.system.layout.labels[card].index)[5:] if card else "") + "\n"
        return read

    def _reset_masks(self) -> dict:
        """reset_enable value -> its 32-bit word (constants.yaml `bits: reset_enable: masks`)."""
        return self.host.spec.bits["reset_enable"]["masks"]

    def _r_reset_enable(self):
        return f"{self._reset_masks()[self.host.describe()['host.reset_enable']]:#x}\n"

    def _r_fw(self, card):
        dev = self.host.device.cards[card.index]
        firmware = self._device_info("firmware") or {}
        lines = [f"{name}: {version}" for name, version in sorted(firmware.items())]
        return "\n".join(lines + [f"reloads: {dev.fw_reloads}"]) + "\n"

    def _r_dump_reg_group(self, card):
        ranges = self.host.device.secured[card.index]
        return "".join(f"secured 0x{lo:08x}-0x{hi:08x}\n" for lo, hi in ranges)

    # ---- writers: parse as the kernel does, then one action of the spec
    def _apply(self, action, params=None):
        try:
            step = self.host.apply(action, params)
        except HostError as exc:                 # a value the spec's syntax does not take
            raise SysfsError("EINVAL", str(exc)) from None
        if not step.accepted:
            refusal = outcome_dict(step.outcome)
            raise SysfsError(refusal["errno"], refusal["message"])

    def _w_numvfs(self, card, text):
        n = _int(text)
        offered = self.host.system.config.values.get("numvfs_writes") or ()
        if n not in offered:          # past sriov_totalvfs: every such count is refused alike (SRIOV-1)
            n = min(n, self.host.system.config.value_of("vf_slots", card.index) + 1)
        self._apply(f"write_sriov_numvfs(card={card.label}, n={n})")

    def _w_reset_enable(self, text):
        value = _int(text)
        words = self._reset_masks()
        named = [name for name, word in words.items() if word == value]
        if not named:
            raise SysfsError("EINVAL", "reset_enable: the reference driver takes "
                             + " or ".join(f"{w:#x}" for w in words.values()) + f", not {text.strip()}")
        self._apply(f"write_reset_enable(value={named[0]})")

    def _w_driver_override(self, inst, text):
        """Linux only records the name (empty clears it); the bind that follows decides."""
        name = text.strip()
        if len(name) > 255 or any(c.isspace() for c in name):
            raise SysfsError("EINVAL", f"driver_override: '{name}' is not a driver name")
        self.host.device.driver_override[inst.label] = name or None

    def _w_rescan(self, text):
        if _int(text) != 1:
            return                         # Linux ignores anything but a true value
        self._apply("pci_rescan()")

    def _w_remove(self, kind, inst, text):
        if _int(text) != 1:
            return
        if kind != "card":
            raise SysfsError("EBUSY", "removing a single VF is not supported; write 0 to the PF's sriov_numvfs")
        self._apply(f"pci_remove(card={inst.label})")

    def _w_reset(self, kind, inst, text):
        value = _int(text)
        if value != 1:
            raise SysfsError("EINVAL", "reset: write 1")
        card = inst.label if kind == "card" else self.host.system.layout.instances["card"][inst.parent].label
        if kind == "vf":
            self._apply(f"efsmi_vf_flr(vf={inst.label})")
        else:
            self._apply(f"pci_flr(card={card})")

    def _w_gcu_reload(self, card, text):
        if _int(text) != 1:
            raise SysfsError("EINVAL", "gcu_reload: write 1")
        self._apply(f"efsmi_hot_reset(card={card.label})")

    def _w_bool(self, action, card, text):
        value = _int(text)
        if value not in (0, 1):
            raise SysfsError("EINVAL", f"write 0 or 1, not {text.strip()}")
        self._apply(f"{action}(card={card.label}, value={'true' if value else 'false'})")

    def _w_rpm_switch(self, card, text):
        word = text.strip()
        if word not in ("start", "stop"):
            raise SysfsError("EINVAL", f"rpm/switch: write start or stop, not {word}")
        self._apply(f"rpm_switch(card={card.label}, start={'true' if word == 'start' else 'false'})")

    def _w_rpm_switch_vf(self, vf, text):
        word = text.strip()
        if word not in ("start", "stop"):
            raise SysfsError("EINVAL", f"rpm/switch: write start or stop, not {word}")
        self._apply(f"rpm_switch_vf(vf={vf.label}, start={'true' if word == 'start' else 'false'})")

    def _w_rpm_delay(self, card, text):
        ms = _int(text)
        self._apply(f"write_rpm_sleep_delay(card={card.label}, custom={'false' if ms == 10000 else 'true'})")
        self.host.device.cards[card.index].rpm_sleep_delay_ms = ms    # the model knows only default or not

    def _w_whitelist(self, action, card, text):
        """add:NAME or delete:NAME, any process name (STBY-2, RPM-5; open_enums proc_name)."""
        m = re.fullmatch(r"\s*(add|delete):(\S+)\s*", text)
        if not m:
            raise SysfsError("EINVAL", f"whitelist: write add:NAME or delete:NAME, not {text.strip()}")
        self._apply(action, {"card": card.label, "op": m.group(1), "name": m.group(2)})

    def _w_vfio_bind(self, text):
        kind, inst = self._bdf_arg(text)
        detached = self.host.device.detached
        if inst.label in detached:                    # the second half of the hand-over
            detached.discard(inst.label)
            return
        self._apply(f"bind_pf_vfio(card={inst.label})" if kind == "card" else f"bind_vf_vfio(vf={inst.label})")

    def _w_vfio_unbind(self, text):
        kind, inst = self._bdf_arg(text)
        if inst.label in self.host.device.detached:
            raise SysfsError("ENODEV", f"{text.strip()}: not bound to vfio-pci")
        self._apply(f"unbind_pf_vfio(card={inst.label})" if kind == "card" else f"unbind_vf_vfio(vf={inst.label})")

    def _w_enflame_bind(self, text):
        kind, inst = self._bdf_arg(text)
        if inst.label not in self.host.device.detached:
            raise SysfsError("EBUSY", f"{text.strip()}: the KMD probes its cards when it loads")
        self._apply(f"unbind_pf_vfio(card={inst.label})" if kind == "card" else f"unbind_vf_vfio(vf={inst.label})")
        self.host.device.detached.discard(inst.label)

    def _w_enflame_unbind(self, text):
        kind, inst = self._bdf_arg(text)
        if inst.label in self.host.device.detached:
            raise SysfsError("ENODEV", f"{text.strip()}: not bound to enflame")
        self._apply(f"bind_pf_vfio(card={inst.label})" if kind == "card" else f"bind_vf_vfio(vf={inst.label})")
        self.host.device.detached.add(inst.label)

    def _bdf_arg(self, text):
        devices = self.devices()
        key = text.strip()
        if key not in devices:
            raise SysfsError("ENODEV", f"{key}: No such device")
        return devices[key]
