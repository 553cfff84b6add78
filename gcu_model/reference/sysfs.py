"""The reference host's sysfs (and debugfs) files: read and write by path, with the text
and errno Linux gives (issue 5).

Which files exist when, what each read shows and which action each write is are declared
in specs/surface.yaml (spec/surface.py, issue 16); this module is the one engine that
serves that table, with the hooks it names for what the device model decides.

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

from functools import lru_cache

from ..shell.commands import bdf as pf_bdf
from ..spec.command_forms import LineError, Names, NoDevice
from ..spec.surface import WriteError, kernel_number
from .host import HostError, outcome_dict


def mdev_uuid(card: int, k: int) -> str:
    return f"{card:08x}-0000-4000-8000-{k:012x}"


class SysfsError(Exception):
    def __init__(self, errno: str, message: str):
        super().__init__(f"{message} ({errno})")
        self.errno = errno
        self.message = message


def vf_bdf(card_index: int, vf_position: int) -> str:
    """VF j of card N: function j+1 of the PF's device (ASSUMPTION: the VF offset is 1)."""
    return pf_bdf(card_index)[:-1] + str(vf_position + 1)


MEMO_STATES = 8


@lru_cache(maxsize=None)
def _parts(path: str) -> tuple:
    return tuple(p for p in path.split("/") if p)


class _Tree:
    """The nested tree being built: dir name -> dict, file name -> (read, write)."""

    def __init__(self):
        self.root: dict = {}
        self._dirs = {(): self.root}

    def dir(self, parts: tuple) -> dict:
        node = self._dirs.get(parts)
        if node is None:
            node = self._dirs[parts] = self.dir(parts[:-1]).setdefault(parts[-1], {})
        return node

    def file(self, parts: tuple, leaf) -> None:
        self.dir(parts[:-1])[parts[-1]] = leaf


class Sysfs:
    def __init__(self, host):
        self.host = host
        self._memo: dict = {}            # (system, state) -> {what: computed}, oldest first

    def _per_state(self, what: str, compute):
        """`compute()` once per model state: which functions are on the bus, the node names
        and the tree's paths are functions of the state alone (surface.yaml's conditions read
        the state and the configuration), while each file's text is read when asked. The
        last MEMO_STATES states are kept: the cases of a suite pass the same states again."""
        key = (self.host.system, self.host.state)
        memo = self._memo.get(key)
        if memo is None:
            if len(self._memo) >= MEMO_STATES:
                del self._memo[next(iter(self._memo))]
            memo = self._memo[key] = {}
        if what not in memo:
            memo[what] = compute()
        return memo[what]

    # ---- names
    def _cards(self):
        return self.host.pfs()

    def _host_label(self) -> str:
        return self.host.roles.instances(self.host.system.layout, "host")[0].label

    def _vfs(self):
        return self.host.roles.instances(self.host.system.layout, "vf")

    def devices(self) -> dict:
        return dict(self._per_state("devices", self._devices))

    def _devices(self) -> dict:
        """BDF -> ('pf', inst) or ('vf', inst), for the functions on the bus now."""
        view = self.host.view()
        out = {}
        for c in self._cards():
            if view.of(c).binding != "removed":
                out[pf_bdf(c.index)] = ("pf", c)
        for v in self._vfs():
            if view.of(v).binding != "absent":
                pos = v.index - v.parent * self.host.system.layout.count(v.family)
                out[vf_bdf(v.parent, pos)] = ("vf", v)
        return out

    def mdevs(self) -> dict:
        return dict(self._per_state("mdevs", self._mdevs))

    def _mdevs(self) -> dict:
        """UUID -> card instance, for the mdev devices the cards offer now (PROD-8, INST-4).
        The UUID carries the card's index and the mdev's number (ASSUMPTION: the virt package
        names them; the guide shows none)."""
        view = self.host.view()
        return {mdev_uuid(c.index, k): c for c in self._cards() for k in range(view.of(c).mdev_count)}

    def gcu_nodes(self) -> dict:
        return dict(self._per_state("gcu_nodes", self._gcu_nodes))

    def _gcu_nodes(self) -> dict:
        """gcuN -> card instance, for the cards the KMD drives (N: the logical device_id, VER-4)."""
        view = self.host.view()
        return {f"gcu{view.of(c).device_id}": c for c in self._cards() if view.of(c).driven_by_kmd}

    def vf_nodes(self) -> dict:
        return dict(self._per_state("vf_nodes", self._vf_nodes))

    def _vf_nodes(self) -> dict:
        """gcuX -> VF instance, for the VFs on the host KMD. VFs are numbered after the cards,
        in bus order, among the VFs that exist; one handed to vfio-pci keeps its number but
        has no node (ASSUMPTION: the guide says only that each VF gets a /dev/gcuX)."""
        view = self.host.view()
        live = [v for v in self._vfs() if view.of(v).binding != "absent"]
        return {f"gcu{len(self._cards()) + k}": v for k, v in enumerate(live) if view.of(v).binding == "enflame"}

    def vgcu_stride(self) -> int:
        """How many /dev/vgcuN numbers each card has: the most vgcu nodes any card of the
        host can offer (constants.yaml vgcu_spatial, vgcu_time_sliced; PROD-9)."""
        config = self.host.system.config
        return max([1] + [config.value_of(name, c.index) for c in self._cards()
                          for name in ("vgcu_spatial", "vgcu_time_sliced")])

    def vgcu_nodes(self) -> dict:
        return dict(self._per_state("vgcu_nodes", self._vgcu_nodes))

    def _vgcu_nodes(self) -> dict:
        """vgcuN -> card instance: card C offers vgcu{stride*C + k}, k < its vgcu_count
        (PROD-9, INST-5; ASSUMPTION: the guide shows /dev/vgcuN but not how cards share N)."""
        view = self.host.view()
        stride = self.vgcu_stride()
        return {f"vgcu{stride * c.index + k}": c for c in self._cards() for k in range(view.of(c).vgcu_count)}

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
        try:
            writer(text)
        except HostError as exc:        # a value the spec's syntax does not take: EINVAL
            raise SysfsError("EINVAL", f"{path}: {exc}") from None

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

    # ---- the tree, served from the declared surface (specs/surface.yaml, issue 16)
    def _tree(self) -> dict:
        """The nested tree of what exists now: dir name -> dict, file name -> (read, write)."""
        root, self._patterns = self._per_state("tree", self._build_tree)
        return root

    def _build_tree(self) -> tuple:
        host = self.host
        d = host._described()
        surface = host.spec.surface
        tree = _Tree()
        patterns = self._patterns = {}
        for path, when in surface.dirs:
            if self._holds(when, None, d):
                tree.dir(_parts(path))
        for name in self.dev_nodes():
            tree.file(("dev", name), (None, None))
            patterns[f"/dev/{name}"] = self._node_pattern(name)
        view = {"d": d}                        # what every read of this tree shares (the state's view)
        named = {word: self._named(ph, d) for word, ph in surface.placeholders.items()}
        for f in surface.files:
            if f.node:
                continue                       # /dev nodes: dev_nodes() above
            parts = _parts(f.path)
            at = parts.index(f.placeholder) if f.placeholder else None
            ph = surface.placeholders.get(f.placeholder)
            for name, inst in (named[f.placeholder].items() if f.placeholder else [(None, None)]):
                if f.when and not self._holds(f.when, inst, d):
                    continue
                here = parts if at is None else parts[:at] + (name,) + parts[at + 1:]
                reader = (lambda f=f, i=inst, n=name: self._read_of(f, i, n, view)) if f.read else None
                writer = (lambda t, f=f, i=inst: self._write_of(f, i, t)) if f.write else None
                tree.file(here, (reader, writer))
                path = f.path if at is None else "/" + "/".join(here)
                patterns[path] = f.path if ph is None or ph.family else path   # an option by its name
        return tree.root, patterns

    def patterns(self) -> dict:
        """path -> its pattern in surface.yaml (PF, gcuN ... for the names), for the tree now."""
        self._tree()
        return dict(self._patterns)

    def write_line(self, action: str, params: dict) -> str | None:
        """The `echo TEXT > PATH` that is `action` with `params` (its text values) by the
        surface's writes, on a file that exists now; None when no such file does."""
        d = self.host.describe()
        named: dict = {}

        def name_of(f, placeholder, label):
            if placeholder not in named:
                named[placeholder] = self._named(self.host.spec.surface.placeholders[placeholder], d)
            return next((n for n, inst in named[placeholder].items()
                         if inst is not None and inst.label == label and self._holds(f.when, inst, d)), None)
        return self.host.spec.surface.write_line(action, params, name_of)

    def _node_pattern(self, name: str) -> str:
        if name.startswith("vgcu"):
            return "/dev/vgcuN"
        return "/dev/gcuX" if name in self.vf_nodes() else "/dev/gcuN"

    def _named(self, ph, d) -> dict:
        """name -> instance for a placeholder, as its namer names the instances present now."""
        if not self._holds(ph.when, None, d):
            return {}
        if ph.namer == "pci_function":
            return {bdf: inst for bdf, (_, inst) in self.devices().items() if inst.family == ph.family}
        if ph.namer == "kmd_node":
            nodes = {**self.gcu_nodes(), **self.vf_nodes()}
            return {name: inst for name, inst in nodes.items() if inst.family == ph.family}
        if ph.namer == "node_number":
            nodes = {**self.gcu_nodes(), **self.vf_nodes()}
            return {name[3:]: inst for name, inst in nodes.items() if inst.family == ph.family}
        if ph.namer == "vgcu_node":                 # N of /dev/vgcuN: the card offering it (PROD-9)
            return {name[4:]: inst for name, inst in self.vgcu_nodes().items()}
        if ph.namer == "mdev":
            return self.mdevs()
        return {name: None for name in self.host.options.defaults}       # text_option

    def _holds(self, conds, inst, d) -> bool:
        for c in conds:
            if c.scope == "host":
                if d[f"{self._host_label()}.{c.name}"] != c.value:
                    return False
            elif c.scope == "var":
                if d.get(f"{inst.label}.{c.name}") != c.value:
                    return False
            elif not self.host.system.config.value_of(c.name, self.host.roles.card_index(inst)):
                return False
        return True

    def _read_of(self, f, inst, name, view) -> str:
        r = f.read
        if r.kind == "hook":
            return getattr(self, f"_r_{r.key}")(inst, name)
        d = view["d"]
        if r.kind == "names":
            return "".join(f"{n}\n" for n in self.host.open_names.of(f"{inst.label}.{r.key}", d))
        if r.kind == "text":
            value = r.key
        elif r.kind == "device":
            value = self._device_info(r.key)
        elif r.kind == "var":
            value = d.get(f"{inst.label}.{r.key}")
        elif r.kind == "host":
            value = d[f"{self._host_label()}.{r.key}"]
        elif r.kind == "quantity":
            if "q" not in view:
                view["q"] = self.host.quantities()
            value = view["q"][f"{inst.label}.{r.key}"]
        else:                                                           # constant
            value = self.host.system.config.value_of(r.key, self.host.roles.card_index(inst))
        if r.word:
            value = self.host.spec.bits[r.word]["masks"][value]
        if r.map is not None:
            text = r.map.get(value, r.default)
        else:
            text = r.format.format(value) if r.format else value
        return f"{text}\n"

    def _write_of(self, f, inst, text) -> None:
        """Parse as the kernel does (a bad number is EINVAL before anything else), then one
        action of the spec (surface.yaml); its refusal is the write's errno. A device name
        written names a device present now, exactly (else ENODEV). A hook does the device
        model's part and, when the surface says which action the write is, applies it."""
        w = f.write
        if w.hook and not w.actions:
            return getattr(self, f"_w_{w.hook}")(inst, text)       # the device model's alone
        try:
            found = w.action_of(text, {f"${f.placeholder}": inst.label} if f.placeholder else {},
                                LiveNames(self, strict=True).instance)
        except WriteError as exc:
            raise SysfsError(exc.errno, exc.message) from None
        except LineError:                  # no device of any case's family has that name now
            raise SysfsError("ENODEV", f"{text.strip()}: No such device") from None
        if found is None:
            return None
        if w.hook:
            return getattr(self, f"_w_{w.hook}")(inst, text, found)
        return self._apply_found(found)

    def _apply_found(self, found) -> None:
        """Apply (action, {param: text}) as the surface resolved a write."""
        name, params = found
        order = [p.name for p in self.host.spec.actions[name].params]
        self._apply(name, {k: params[k] for k in order if k in params})

    def _device_of(self, found) -> str:
        """The label of the device a write of a device name is about: its action's instance."""
        name, params = found
        return next(params[p.name] for p in self.host.spec.actions[name].params if p.is_instance)

    # ---- read hooks (surface.yaml `read: {hook: NAME}`): what the device model decides
    def _device_info(self, key):
        return self.host.spec.device[key]

    def pci_device(self, inst):
        """The PCI device id of a PF or VF: its own card's product's (PROD-1)."""
        roles = self.host.roles
        product = self.host.system.config.value_of("product", roles.card_index(inst))
        return self._device_info("vf_device" if roles.role(inst) == "vf" else "pci_device")[product]

    def _r_pci_device(self, inst, _name):
        return f"0x{self.pci_device(inst):04x}\n"

    def _r_loaded_reset_enable(self, _inst, _name):          # a module parameter reads in decimal
        return f"{self._reset_masks()[self.host.view().host.reset_enable]}\n"

    def _r_loaded_vgcu_num(self, _inst, _name):
        shown = self.host.spec.commands.option_lines.text_of("vgcu_num", self.host.view().host.vgcu_num_loaded)
        return (shown or "0") + "\n"        # as an options line writes it (commands.yaml option_lines)

    def _r_loaded_whitelist(self, _inst, _name):
        card = self.host.view().host.whitelist_loaded
        return (pf_bdf(self.host.system.layout.labels[card].index)[5:] if card else "") + "\n"

    def _r_text_option(self, _inst, name):
        return f"{self.host.options.value(name)}\n"

    def _r_driver_override(self, inst, _name):
        return f"{self.host.device.driver_override.get(inst.label) or '(null)'}\n"

    def _r_bdf(self, inst, _name):
        return f"{pf_bdf(inst.index)}\n"

    def _r_rpm_sleep_delay(self, inst, _name):
        return f"{self.host.device.sleep_delay_ms(inst.index)}\n"

    def _r_last_busy(self, inst, _name):
        return f"{self.host.clock_ms - self.host.device.cards[inst.index].last_busy_ms}\n"

    def _reset_masks(self) -> dict:
        """reset_enable value -> its 32-bit word (constants.yaml `bits: reset_enable: masks`)."""
        return self.host.spec.bits["reset_enable"]["masks"]

    def _r_fw_informations(self, card, _name):
        dev = self.host.device.cards[card.index]
        firmware = self._device_info("firmware") or {}
        lines = [f"{name}: {version}" for name, version in sorted(firmware.items())]
        return "\n".join(lines + [f"reloads: {dev.fw_reloads}"]) + "\n"

    def _r_dump_reg_group(self, card, _name):
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

    def _w_sriov_numvfs(self, card, _text, found):
        """Past sriov_totalvfs every count is refused alike (SRIOV-1): the model's counts end
        one past the VF slots."""
        name, params = found
        count = next(p.name for p in self.host.spec.actions[name].params if not p.is_instance)
        n = int(params[count])
        offered = self.host.system.config.values.get("numvfs_writes") or ()
        if n not in offered:
            n = min(n, self.host.system.config.value_of(self.host.roles.count_constant("vf"), card.index) + 1)
        self._apply_found((name, {**params, count: str(n)}))

    def _w_driver_override(self, inst, text):
        """Linux only records the name (empty clears it); the bind that follows decides."""
        name = text.strip()
        if len(name) > 255 or any(c.isspace() for c in name):
            raise SysfsError("EINVAL", f"driver_override: '{name}' is not a driver name")
        self.host.device.driver_override[inst.label] = name or None

    def _w_rpm_sleep_delay(self, card, text, found):
        """RPM-2: the model knows only default or custom (surface.yaml maps the ms to which);
        the device model keeps the ms written."""
        self._apply_found(found)
        self.host.device.cards[card.index].rpm_sleep_delay_ms = kernel_number(text)

    # the two-step hand-over to vfio-pci (the module's docstring; SRIOV-3, SRIOV-8): each file's
    # action is surface.yaml's, by the family of the device written
    def _w_vfio_bind(self, _inst, _text, found):
        detached = self.host.device.detached
        if self._device_of(found) in detached:        # the second half of the hand-over: no step
            detached.discard(self._device_of(found))
            return
        self._apply_found(found)

    def _w_vfio_unbind(self, _inst, text, found):
        if self._device_of(found) in self.host.device.detached:
            raise SysfsError("ENODEV", f"{text.strip()}: not bound to vfio-pci")
        self._apply_found(found)

    def _w_enflame_bind(self, _inst, text, found):
        if self._device_of(found) not in self.host.device.detached:
            raise SysfsError("EBUSY", f"{text.strip()}: the KMD probes its cards when it loads")
        self._apply_found(found)
        self.host.device.detached.discard(self._device_of(found))

    def _w_enflame_unbind(self, _inst, text, found):
        if self._device_of(found) in self.host.device.detached:
            raise SysfsError("ENODEV", f"{text.strip()}: not bound to enflame")
        self._apply_found(found)
        self.host.device.detached.add(self._device_of(found))


class LiveNames(Names):
    """The host's names for a command line, as surface.yaml's placeholders name the devices
    present now (a card or VF by its PCI address, a card or VF by its device id N). A line
    may write a PCI address short (01:00.0) and name a card off the bus (the QEMU quirk file);
    `strict`: only the exact name of a device present now, as the kernel resolves a device
    name written to sysfs (drivers/*/bind, unbind)."""

    def __init__(self, fs: Sysfs, strict: bool = False):
        self.fs = fs
        self.strict = strict

    def _now(self, placeholder) -> dict:
        ph = self.fs.host.spec.surface.placeholders[placeholder]
        return {text: inst for text, inst in self.fs._named(ph, self.fs.host.describe()).items() if inst is not None}

    def instance(self, placeholder, text):
        ph = self.fs.host.spec.surface.placeholders[placeholder]
        if self.strict:
            inst = self._now(placeholder).get(text)
            if inst is None:
                raise NoDevice(f"{text}: No such device")
            return inst.label
        if ph.namer == "pci_function" and text.count(":") == 1:
            text = f"0000:{text}"                          # 01:00.0, as lspci and the guide write it
        inst = self._now(placeholder).get(text)
        if inst is None and ph.namer == "pci_function" and ph.family == self.fs.host.roles.family["pf"]:
            # a file named by a card's address (the QEMU quirk file): the card may be off the bus
            inst = next((c for c in self.fs._cards() if pf_bdf(c.index) == text), None)
        if inst is None:
            raise NoDevice(f"no GCU device with id {text}" if ph.namer == "node_number"
                           else f"no /dev/vgcu{text}" if ph.namer == "vgcu_node" else f"no GCU device at {text}")
        return inst.label

    def name(self, placeholder, label):
        return next(iter(self.names(placeholder, label)), None)

    def names(self, placeholder, label):
        return [text for text, inst in self._now(placeholder).items() if inst.label == label]
