"""Malformed spec trees: one small edit each, run through the CLI as a user would.

Every case copies the embedded `specs/` tree to `tmp_path/specs`, applies one exact
textual edit to one file and runs `python -m gcu_model check --specs <copy>` (or
`configs`). The command must exit 2 and print, without a traceback, one message that
names the file (relative to the copy's parent, e.g. `specs/machines/vm.yaml`), the line
of the edited text, the culprit and what is wrong.

The expected line is never hard-coded: it is the line, in the edited text, where the
case's `at` marker starts (by default the replacement text itself).
"""
from __future__ import annotations

import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from gcu_model.spec.loader import default_spec_dir

EMBEDDED = default_spec_dir()
SAME = ""          # `at` default: the line where the replacement text starts


@dataclass(frozen=True)
class Case:
    file: str                  # relative to specs/
    old: str                   # exact text, present exactly once
    new: str | None            # replacement; None deletes the file
    culprit: str | None        # text the message must quote (None: no culprit for this kind)
    phrase: str                # part of the message
    at: str | None = SAME      # marker whose line the message names; None: no line
    nth: int = 1               # which occurrence of `at` (for copies of a block)
    command: str = "check"
    also: tuple = ()           # further texts the message must contain


# ------------------------------------------------------------------ helpers
def replace_once(path: Path, old: str, new: str) -> str:
    """Replace the one occurrence of `old` in `path`; fail loudly if the spec moved on."""
    text = path.read_text(encoding="utf-8")
    found = text.count(old)
    assert found == 1, f"expected exactly one {old!r} in {path}, found {found}: the spec changed, update this case"
    edited = text.replace(old, new)
    path.write_text(edited, encoding="utf-8")
    return edited


def line_of(text: str, marker: str, nth: int = 1) -> int:
    """1-based line where the nth occurrence of `marker` starts in `text`."""
    positions = []
    start = 0
    while True:
        k = text.find(marker, start)
        if k < 0:
            break
        positions.append(k)
        start = k + 1
    assert len(positions) == nth, f"marker {marker!r} found {len(positions)} times, expected {nth}"
    return text.count("\n", 0, positions[nth - 1]) + 1


def run_cli(command: str, specs: Path, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "gcu_model", command, "--specs", str(specs)],
                          capture_output=True, text=True, cwd=cwd, timeout=120)


def apply_case(case: Case, tmp_path: Path):
    """Copy the embedded tree, edit it; returns (copy, expected 'specs/file[:line]: ' prefix)."""
    copy = tmp_path / "specs"
    shutil.copytree(EMBEDDED, copy)
    path = copy / case.file
    shown = f"specs/{case.file}"
    if case.new is None:
        assert path.is_file()
        path.unlink()
        return copy, shown
    edited = replace_once(path, case.old, case.new)
    if case.at is None:
        return copy, shown
    marker = case.new if case.at == SAME else case.at
    return copy, f"{shown}:{line_of(edited, marker, case.nth)}: "


def check_rejected(case: Case, tmp_path: Path):
    copy, where = apply_case(case, tmp_path)
    result = run_cli(case.command, copy, tmp_path)
    out, err = result.stdout, result.stderr
    assert "Traceback" not in out and "Traceback" not in err, err
    assert result.returncode == 2, f"exit {result.returncode}\nstdout:\n{out}\nstderr:\n{err}"
    assert err.startswith("gcu-model: error: invalid spec: "), err
    assert where in err, f"expected {where!r} in:\n{err}"
    if case.culprit is not None:
        assert case.culprit in err, f"culprit {case.culprit!r} not quoted in:\n{err}"
    assert case.phrase in err, f"expected {case.phrase!r} in:\n{err}"
    for extra in case.also:
        assert extra in err, f"expected {extra!r} in:\n{err}"
    return err


# ------------------------------------------------------------------ the cases
CASES = {
    # --- expressions: names, types, enum values
    "guard-unknown-name-did-you-mean": Case(
        "machines/vf.yaml", "require: opens == 0", "require: openz == 0",
        "openz", "unknown name 'openz' (did you mean 'opens'?)"),
    "guard-bool-compared-with-int": Case(
        "machines/vm.yaml", "require: not job", "require: job == 1",
        "job == 1", "cannot compare a bool with a"),
    "guard-enum-compared-with-int": Case(
        "machines/virtpkg.yaml", "require: host.mode == 'mdev_host'", "require: host.mode == 2",
        "host.mode == 2", "cannot compare an enum install_mode"),
    "check-string-not-enum-value": Case(
        "machines/kmd.yaml", "require: opt_mode != 'virt_host' or any(c.supports_sriov for c in card)",
        "require: opt_mode != 'virt-host' or any(c.supports_sriov for c in card)",
        "virt-host", "is not a value of enum install_mode"),
    # --- open enums (data independence): `other` stands for every unnamed name
    "rule-names-the-open-enums-other": Case(
        "machines/rpm.yaml", "(0 if 'app' in rpm_whitelist else", "(0 if 'other' in rpm_whitelist else",
        "other", "a rule may not name it"),
    "open-enum-other-not-a-value": Case(
        "constants.yaml", "proc_name: {other: other,", "proc_name: {other: anyone,",
        "anyone", "is not a value of enum proc_name"),
    "open-enum-syntax-not-a-regex": Case(
        "constants.yaml", "syntax: '[^\\s:]{1,255}'", "syntax: '[^\\s:{1,255}'",
        "[^\\s:{1,255}", "is not a regular expression"),
    "open-enum-syntax-refuses-its-own-value": Case(
        "constants.yaml", "syntax: '[^\\s:]{1,255}'", "syntax: 'efvs|app'",
        "other", "does not match its own syntax"),
    # --- the declared surface (surface.yaml, issue 16)
    "surface-write-names-an-unknown-action": Case(
        "surface.yaml", "action: pci_rescan}", "action: pci_rescna}",
        "pci_rescna", "no action 'pci_rescna' in the machines"),
    "surface-write-names-an-unknown-parameter": Case(
        "surface.yaml", "action: pci_flr, args: {card: $PF}}", "action: pci_flr, args: {crad: $PF}}",
        "crad", "action pci_flr has no parameter 'crad'"),
    "surface-read-names-an-unknown-variable": Case(
        "surface.yaml", "read: {var: numvfs}", "read: {var: numvf}",
        "numvf", "no variable 'numvf' of family card"),
    "surface-path-with-an-undeclared-placeholder": Case(
        "surface.yaml", "path: /sys/bus/pci/devices/PF/vendor", "path: /sys/bus/pci/devices/BDF/vendor",
        "BDF", "looks like a placeholder but surface.yaml declares none"),
    "surface-unknown-read-kind": Case(
        "surface.yaml", "read: {quantity: usage_count}", "read: {quantity: usage_count, colour: red}",
        "colour", "unknown key 'colour'"),
    "surface-refusal-without-an-errno": Case(
        "surface.yaml", "refuse: [EBUSY, ", "refuse: [busy, ",
        "busy", "refuse: [ERRNO, message]"),
    "surface-read-format-that-formats-nothing": Case(
        "surface.yaml", "read: {device: pci_vendor, format: \"0x{:04x}\"}\n    shows: the PCI vendor id\n    reqs",
        "read: {device: pci_vendor, format: \"0x{:04q}\"}\n    shows: the PCI vendor id\n    reqs",
        "0x{:04q}", "is not a format of one value"),
    "surface-placeholder-condition-on-an-instance": Case(
        "surface.yaml", "N:    {family: card, namer: node_number, when: [{host: kmd, is: loaded}]}",
        "N:    {family: card, namer: node_number, when: [{var: binding, is: enflame}]}",
        "binding", "no variable 'binding' of family None"),
    "surface-condition-value-the-variable-never-holds": Case(
        "surface.yaml", "  - path: /sys/bus/pci/devices/PF/device_id\n    when: [{host: kmd, is: loaded}, {var: binding, is: enflame}]",
        "  - path: /sys/bus/pci/devices/PF/device_id\n    when: [{host: kmd, is: loaded}, {var: binding, is: enflme}]",
        "enflme", "'enflme' is not a value of binding", at="    when: [{host: kmd, is: loaded}, {var: binding, is: enflme}]"),
    "surface-file-declared-twice": Case(
        "surface.yaml", "  - path: /sys/bus/pci/devices/VF/vendor\n",
        "  - path: /sys/bus/pci/devices/PF/vendor\n", "/sys/bus/pci/devices/PF/vendor", "declared twice",
        at="  - path: /sys/bus/pci/devices/PF/vendor\n", nth=2),
    # --- per-card constants (issue 8: a host may mix products)
    "per-card-constant-bare-outside-a-card": Case(
        "machines/vf.yaml", "when: any(c.supports_sriov for c in card) and 'virt_host' in install_modes",
        "when: supports_sriov and 'virt_host' in install_modes",
        "supports_sriov", "'supports_sriov' has one value per card; name the card"),
    "per-card-list-of-the-wrong-length": Case(
        "configs.yaml", "values: {product: [T20, I20, S60], part_number:", "values: {product: [T20, I20], part_number:",
        "product", "config mixed-host: product lists 2 values for 3 cards"),
    "per-card-part-of-another-product": Case(
        "configs.yaml", "part_number: [none, none, EFB-0088000-00]", "part_number: [EFB-0088000-00, none, EFB-0088000-00]",
        "EFB-0088000-00", "card0's EFB-0088000-00 is a S60 part, not T20",
        at="values: {product: [T20, I20, S60]"),
    "host-wide-constant-given-a-list": Case(
        "configs.yaml", "cards: 3, vms: 1, containers: 1,", "cards: 3, vms: [1, 1, 1], containers: 1,",
        "vms", "vms is host-wide; give it one value, not a list", at="values: {product: [T20, I20, S60]"),
    "product-row-sets-a-host-wide-constant": Case(
        "constants.yaml", "I20: {supports_vdev: true,", "I20: {vms: 2, supports_vdev: true,",
        "vms", "products.I20: 'vms' is host-wide, but product is per card"),
    "per-names-no-family": Case(
        "constants.yaml", "product: {type: product, per: card,", "product: {type: product, per: cards,",
        "cards", "constant product: per: 'cards' is not a top-level family"),
    "composed-host-of-mixed-cards": Case(
        "configs.yaml", "    base: s60-server\n", "    base: mixed-host\n",
        "mixed-host", "composed host s60x8-4vf: the cards of mixed-host differ in product"),
    "param-values-per-card": Case(
        "machines/pf.yaml", "n: {type: int, values: numvfs_writes}", "n: {type: int, values: vf_modes}",
        "vf_modes", "values 'vf_modes' has one value per card; a parameter's values are the host's"),
    "bound-per-card-outside-a-card": Case(
        "machines/kmd.yaml", "vf_num: {type: int, min: 0, max: 4,", "vf_num: {type: int, min: 0, max: vf_slots,",
        "vf_slots", "'max' of 'vf_num' ('vf_slots') is per card, but host is not a card or a child of one"),
    "per-card-int-set-through-a-variable": Case(
        "machines/kmd.yaml", "expr: host.mode != 'virt_host' or all(not c.supports_sriov or host.vf_num in c.vf_modes for c in card)",
        "expr: host.mode != 'virt_host' or host.vf_num in card[host.whitelist_loaded].vf_modes",
        "card[host.whitelist_loaded].vf_modes", "'vf_modes' is a set of ints: read it through a card the configuration fixes"),
    "per-card-constant-read-on-a-vf": Case(
        "machines/vf.yaml", "expr: all(v.opens == 0 or v.binding == 'enflame' for v in vf)",
        "expr: all(v.opens == 0 or v.supports_sriov for v in vf)",
        "supports_sriov", "'supports_sriov' is a card's, not a vf's: read it through its card, as x.card.supports_sriov"),
    "invariant-unknown-variable": Case(
        "machines/peermem.yaml", "host.openibd == 'healthy'", "host.openib == 'healthy'",
        "openib", "unknown variable of family 'host' 'openib' (did you mean 'openibd'?)"),
    "param-values-constant-of-wrong-type": Case(
        "machines/pf.yaml", "n: {type: int, values: numvfs_writes}", "n: {type: int, values: install_modes}",
        "install_modes", "values 'install_modes' must be a constant that is a set of int"),
    "param-values-unknown-constant": Case(
        "machines/kmd.yaml", "values: vgcu_nums}", "values: vgcu_num}",
        "vgcu_num", "(did you mean 'vgcu_nums'?)"),
    "config-value-outside-enum-set": Case(
        "configs.yaml", "install_modes: [asic, vgcu], vgcu_nums: [two]",
        "install_modes: [asic, vgcu], vgcu_nums: [three]",
        "three", "is not a value of enum vgcu_option"),
    "bits-overlapping-secured-ranges": Case(
        "constants.yaml", "[0x00040000, 0x0004FFFF]", "[0x00001800, 0x0004FFFF]",
        "0x00001800", "overlap"),
    "bits-unknown-reset-kind": Case(
        "constants.yaml", "bits: {vf_flr: 0, pf_flr: 1, hot: 2}", "bits: {vf_flr: 0, pf_flr: 1, warm: 2}",
        "warm", "is not a state of machine reset"),
    "bits-mask-wider-than-a-word": Case(
        "constants.yaml", "zero: 0x0}", "zero: 0x100000000}",
        "4294967296", "must be a 32-bit value"),
    "device-ip-block-in-two-classes": Case(
        "constants.yaml", "pf_only: [PCIe, SSM, AASP, NoC]", "pf_only: [PCIe, SSM, AASP, NoC, MIH]",
        "MIH", "is both pf_only and vf_shared", at="vf_shared: [VMsys"),
    "device-module-parameter-without-default": Case(
        "constants.yaml", "module_parameters: {enable_ssm_rt_fw: 1,", "module_parameters: {Enable-SSM: 1,",
        "Enable-SSM", "must be a parameter name and its default value"),
    "goal-when-reads-state": Case(
        "machines/pf.yaml", "when: any(4 in c.vf_modes for c in card) and",
        "when: host.kmd == 'loaded' and any(4 in c.vf_modes for c in card) and",
        "kmd", "state variables are not allowed here; only config constants"),
    # --- expressions: constructs outside the subset
    "call-open": Case(
        "machines/peermem.yaml", "require: openibd == 'healthy'", "require: open('x')",
        "open", "calls are not allowed"),
    "call-dunder-import": Case(
        "machines/vf.yaml", "require: opens > container_opens", "require: __import__('os')",
        "__import__", "calls are not allowed"),
    "attribute-trick-dunder-class": Case(
        "machines/vm.yaml", "require: job\n", "require: job.__class__\n",
        "__class__", "attribute tricks are not allowed"),
    "lambda": Case(
        "machines/pf.yaml", "when: not (host.kmd == 'loaded' and probe_ok)", "when: \"lambda: True\"",
        "lambda: True", "a lambda is not allowed in a spec expression"),
    "list-comprehension": Case(
        "machines/pf.yaml", "require: host.kmd == 'absent' or not sriov_pf",
        "require: \"[v for v in vf]\"",
        "[v for v in vf]", "a list comprehension is not allowed in a spec expression"),
    "expression-syntax-error": Case(
        "machines/vf.yaml", "require: opens == 0", "require: opens == = 0",
        None, "syntax error in expression"),
    # --- transitions: states, IDs, errnos, triggers, keys
    "unknown-dest-state": Case(
        "machines/pf.yaml", "dest: unbound", "dest: unbund",
        "unbund", "unknown state 'unbund' of machine 'pf'"),
    "unknown-source-state": Case(
        "machines/peermem.yaml", "source: [installed, loaded]", "source: [installed, laoded]",
        "laoded", "unknown state 'laoded' of machine 'peermem'"),
    "unknown-requirement-id": Case(
        "machines/pf.yaml", "    reqs: [QEMU-5]\n", "    reqs: [QEMU-9]\n",
        "QEMU-9", "unknown requirement ID 'QEMU-9'", also=("known QEMU IDs: QEMU-1..",)),
    "unknown-errno": Case(
        "machines/vf.yaml", "errno: ESRCH", "errno: ESEARCH",
        "ESEARCH", "unknown errno 'ESEARCH'"),
    "unknown-action-as-trigger": Case(
        "machines/virtpkg.yaml", "trigger: uninstall_virt", "trigger: uninstal_virt",
        "uninstal_virt", "unknown action 'uninstal_virt' as trigger"),
    "unknown-key-in-transition": Case(
        "machines/virtpkg.yaml", "    dest: absent\n", "    dset: absent\n",
        "dset", "unknown key 'dset' in a transition"),
    "message-template-unknown-field": Case(
        "machines/pf.yaml", "message: \"{card}: a process, container or VM holds one of its device nodes\"",
        "message: \"{cart}: a process, container or VM holds one of its device nodes\"",
        "cart", "message template names unknown field '{cart}'"),
    "ref-of-unknown-family": Case(
        "machines/vm.yaml", "type: \"ref[vf]\"", "type: \"ref[vfs]\"",
        "vfs", "unknown family 'vfs' in 'ref[vfs]'"),
    # --- effects
    "effect-assigns-own-control": Case(
        "machines/vm.yaml", "      vf_dev = vf\n", "      vf_dev = vf\n      power = 'off'\n",
        "power", "the machine's own state 'power' changes through 'dest'", at="      power = 'off'"),
    "effect-assigns-parameter": Case(
        "machines/pf.yaml", "      numvfs = n\n", "      n = numvfs\n",
        "'n'", "is not a state variable and cannot be assigned"),
    "effect-while-statement": Case(
        "machines/kmd.yaml", "      if file == 'gcu_conf':", "      while file == 'gcu_conf':",
        "while file == 'gcu_conf':", "a while loop is not allowed in an effect"),
    "effect-import-on-second-line-of-block": Case(
        "machines/pf.yaml", "      numvfs = 0\n", "      numvfs = 0\n      import os\n",
        "import os", "an import is not allowed in an effect", at="      import os"),
    "effect-block-from-effects-section": Case(
        "machines/kmd.yaml", "            c.numvfs = 0\n", "            c.numvfz = 0\n",
        "numvfz", "unknown variable of family 'card' 'numvfz' (did you mean 'numvfs'?)"),
    # --- commands.yaml
    "command-unknown-action": Case(
        "commands.yaml", "action: openibd_restart}", "action: openibd_restrat}",
        "openibd_restrat", "no action 'openibd_restrat' in the machines"),
    "command-names-an-instance": Case(
        "commands.yaml", "{line: \"sudo reboot\", action: reboot}", "{line: \"sudo reboot\", action: open_pf}",
        "card", "action open_pf needs its parameter card in args (a card: a placeholder of the line, such as $PF)",
        at="{line: \"sudo reboot\""),
    "command-option-sets-no-parameter": Case(
        "commands.yaml", "--no-auto-load: {opt_auto_load: false}", "--no-auto-load: {opt_autoload: false}",
        "opt_autoload", "option --no-auto-load: no parameter 'opt_autoload'"),
    "command-form-leaves-out-a-placeholder": Case(
        "commands.yaml", "match: [\"rm /etc/qemu-quirks/enflame/$PF.conf\"]",
        "match: [\"rm /etc/qemu-quirks/enflame/gcu.conf\"]",
        "rm /etc/qemu-quirks/enflame/gcu.conf", "'rm /etc/qemu-quirks/enflame/gcu.conf' does not say $PF"),
    "option-line-value-of-no-kind": Case(
        "commands.yaml", "    value: pci_address\n", "    value: pci\n",
        "gcu_whitelist_str", "option gcu_whitelist_str: value is {map: ...}, {bits: NAME} or pci_address",
        at="    value: pci"),
    "option-line-maps-outside-the-type": Case(
        "commands.yaml", "value: {map: {2: two, 4: four}}", "value: {map: {2: two, 4: eight}}",
        "eight", "'eight' is not a value of value"),
    "command-arg-outside-its-type": Case(
        "commands.yaml", "args: {conf: gcu_conf}", "args: {conf: etc_conf}",
        "etc_conf", "'etc_conf' is not a value of conf (one of gcu_conf, tmp_conf)"),
    "command-shadowed-by-an-earlier-one": Case(
        "commands.yaml", "match: [\"enflame_virt-*.run\"], action: install_virt}",
        "match: [\"enflame_virt-*.run\", \"enflame*.run --uninstall\"], action: install_virt}",
        "sudo ./enflame_virt-xxx.run --uninstall", "reads as install_virt(): an earlier command matches it first",
        at="{line: \"sudo ./enflame_virt-xxx.run --uninstall\""),
    "option-line-holds-no-host-variable": Case(
        "commands.yaml", "    holds: vgcu_num_conf\n", "    holds: vgcu_conf\n",
        "vgcu_conf", "option vgcu_num: holds: no host variable 'vgcu_conf'"),
    "surface-write-bits-of-a-word": Case(
        "surface.yaml", "write: {parse: int, bits: reset_enable,", "write: {parse: word, bits: reset_enable,",
        "reset_enable", "bits: is a number's meaning; give parse: int", at="write: {parse: word, bits: reset_enable,"),
    "option-line-absent-without-holds": Case(
        "commands.yaml", "    holds: irq_poll_zero_conf\n", "",
        None, "option irq_poll_interval: absent: is the value of holds:; give holds:", at="    absent: false"),
    "surface-write-bits-unknown": Case(
        "surface.yaml", "write: {parse: int, bits: reset_enable,", "write: {parse: int, bits: reset_enabled,",
        "reset_enabled", "no `bits: reset_enabled` in constants.yaml"),
    "surface-hook-write-says-more-than-its-action": Case(
        "surface.yaml", "PF/driver_override\n    read: {hook: driver_override}\n    write: {hook: driver_override}",
        "PF/driver_override\n    read: {hook: driver_override}\n    write: {hook: driver_override, parse: int}",
        "/sys/bus/pci/devices/PF/driver_override",
        "a hook's write says which action it is (action: or cases:) or nothing else",
        at="write: {hook: driver_override, parse: int}"),
    "surface-case-of-an-unknown-placeholder": Case(
        "surface.yaml", "cases: [{of: PF, action: bind_pf_vfio, args: {card: $VALUE}},\n                                                       {of: VF,",
        "cases: [{of: PF, action: bind_pf_vfio, args: {card: $VALUE}},\n                                                       {of: VFN,",
        "VFN", "a case of 'VFN': surface.yaml declares no such placeholder", at="{of: VFN,"),
    "surface-case-of-a-placeholder-of-no-family": Case(
        "surface.yaml", "hook: vfio_unbind, cases: [{of: PF,", "hook: vfio_unbind, cases: [{of: OPTION,",
        "OPTION", "a case of OPTION: OPTION names no instance family, so no device"),
    "surface-case-action-missing-a-parameter": Case(
        "surface.yaml", "hook: enflame_bind, cases: [{of: PF, action: unbind_pf_vfio, args: {card: $VALUE}}",
        "hook: enflame_bind, cases: [{of: PF, action: unbind_pf_vfio, args: {}}",
        "card", "action unbind_pf_vfio needs card", at="hook: enflame_bind, cases:"),
    "surface-case-device-of-another-family": Case(
        "surface.yaml", "{of: VF, action: unbind_vf_vfio, args: {vf: $VALUE}}]}\n    takes: \"a BDF: back",
        "{of: VF, action: unbind_pf_vfio, args: {card: $VALUE}}]}\n    takes: \"a BDF: back",
        "card", "a case of VF: $VALUE is a vf, but unbind_pf_vfio's card is a card",
        at="{of: VF, action: unbind_pf_vfio"),
    "surface-otherwise-without-a-map": Case(
        "surface.yaml", "map: {10000: false, 5000: true}, otherwise: true,", "otherwise: true,",
        "otherwise", "otherwise: is what a text not in map: means; give map:"),
    "surface-otherwise-of-the-wrong-type": Case(
        "surface.yaml", "map: {10000: false, 5000: true}, otherwise: true,",
        "map: {10000: false, 5000: true}, otherwise: sometimes,",
        "sometimes", "rpm_sleep_delay: custom is true or false, not 'sometimes'"),
    "surface-map-value-of-the-wrong-type": Case(
        "surface.yaml", "map: {10000: false, 5000: true}, otherwise: true,",
        "map: {10000: false, 5000: maybe}, otherwise: true,",
        "maybe", "custom is true or false, not 'maybe'"),
    "command-instance-placeholder-not-of-the-surface": Case(
        "commands.yaml", "    action: efsmi_vf_flr\n    args: {vf: $X}\n", "    action: efsmi_vf_flr\n    args: {vf: $N}\n",
        "$N", "$N is no placeholder of surface.yaml naming a vf ($VF, $X, $gcuX)", at="    args: {vf: $N}"),
    "timed-after-zero-ms": Case(
        "machines/reset.yaml", "timed: {after_ms: 200,", "timed: {after_ms: 0,",
        "0", "after_ms is a number of milliseconds above 0", at="timed: {after_ms: 0,"),
    "timed-param-nothing-chooses": Case(
        "machines/reset.yaml", "timed: {after_ms: 200, choose: {ok: {hook: reset_succeeds}}}",
        "timed: {after_ms: 200}", "ok", "nothing chooses 'ok'", at="timed: {after_ms: 200}"),
    "timed-unknown-choice-hook": Case(
        "machines/reset.yaml", "{ok: {hook: reset_succeeds}}", "{ok: {hook: coin_toss}}",
        "coin_toss", "unknown choice hook", at="timed: {after_ms: 200"),
    "timed-unknown-duration-hook": Case(
        "machines/rpm.yaml", "timed: {after_ms: {hook: rpm_sleep_delay}}", "timed: {after_ms: {hook: forever}}",
        "forever", "unknown duration hook"),
    "command-waits-for-no-timed-action": Case(
        "commands.yaml", "    waits: reset_completes\n    says: {start: \"Resetting GCU $X",
        "    waits: pci_flr\n    says: {start: \"Resetting GCU $X",
        "pci_flr", "a timed action the line waits out", at="    waits: pci_flr"),
    "command-ends-with-a-device-of-another-family": Case(
        "commands.yaml", "ends: {action: close_vf, args: {vf: $X}}", "ends: {action: close_vf, args: {vf: $N}}",
        "$N", "vf is a vf: one of the line's placeholders naming a vf"),
    "command-ends-a-line-not-in-the-background": Case(
        "commands.yaml", '  - line: "./efvs /dev/gcu$N &"\n    match: ["efvs ... /dev/gcu$N ... &"]',
        '  - line: "./efvs /dev/gcu$N"\n    match: ["efvs ... /dev/gcu$N"]',
        None, "the line ends in &", at="    ends: {action: tool_close"),
    "command-gives-a-device-not-a-name": Case(
        "commands.yaml", "    args: {vm: $VM, card: $PF}\n    gives: VM", "    args: {vm: $VM, card: $PF}\n    gives: PF",
        "PF", "gives: a placeholder of the line that a user names", at="    gives: PF"),
    "command-waits-for-something-unknown": Case(
        "commands.yaml", "    written: false             # pci_flr", "    written: no_thanks         # pci_flr",
        "written", "written: true or false"),
    "command-default-not-of-its-kind": Case(
        "commands.yaml", "    defaults: {X: 0}\n", "    defaults: {X: /dev/gcu1}\n",
        "/dev/gcu1", "defaults: '/dev/gcu1' cannot be $X"),
    "command-says-an-unknown-placeholder": Case(
        "commands.yaml", "start: \"Resetting GCU $X ...\"", "start: \"Resetting GCU $Y ...\"",
        "$Y", "says start: $Y is no placeholder of the line"),
    "command-counts-an-instance-parameter": Case(
        "commands.yaml", "    count: {nodes: $V}\n", "    count: {card: $V}\n",
        "card", "count: card: a number parameter of the action", at="    count: {card: $V}"),
    "command-counts-a-parameter-also-in-args": Case(
        "commands.yaml", "    args: {ctr: $CTR, card: $V}\n", "    args: {ctr: $CTR, card: $V, nodes: 1}\n",
        "nodes", "count: nodes is counted, so not in args", at="    count: {nodes: $V}"),
    "command-fails-with-no-exit-status": Case(
        "commands.yaml", "    action: docker_run_vgcu\n    fails: 125\n", "    action: docker_run_vgcu\n    fails: 0\n",
        "0", "fails: the exit status of a refused line, 1 to 255", at="    fails: 0"),
    "command-says-start-without-waiting": Case(
        "commands.yaml", "    says: {done: \"$CTR\"}", "    says: {start: \"$CTR\"}",
        None, "says: start and dead are what a line that waits prints", at="    says: {start: \"$CTR\"}"),
    "surface-kept-on-a-device-placeholder": Case(
        "surface.yaml", "  V:    {family: card, namer: vgcu_node, when:",
        "  V:    {family: card, namer: vgcu_node, kept: \"rm $V\", when:",
        "rm $V", "kept: the command line that frees a name a user gave (namer: user_name)"),
    "script-flag-of-an-unknown-action": Case(
        "commands.yaml", "--bind: {PF: bind_pf_vfio, VF: bind_vf_vfio}", "--bind: {PF: bind_pf_vfio, VF: bind_vf}",
        "bind_vf", "scripts: GcuSriovMgr --bind: no action 'bind_vf'"),
    "script-slot-not-a-pci-address": Case(
        "commands.yaml", "--vf-num: {PF: write_sriov_numvfs}", "--vf-num: {N: write_sriov_numvfs}",
        "N", "is no placeholder of surface.yaml naming a PCI slot"),
    "script-action-of-another-family": Case(
        "commands.yaml", "--unbind: {PF: unbind_pf_vfio, VF: unbind_vf_vfio}",
        "--unbind: {PF: unbind_vf_vfio, VF: unbind_vf_vfio}",
        "unbind_vf_vfio", "does not take one card ($PF)"),
    # --- families.yaml roles
    "family-role-unknown": Case(
        "families.yaml", "role: container,", "role: docker,",
        "docker", "family ctr: unknown role 'docker'", also=("container (a container given device nodes",)),
    "family-role-twice": Case(
        "families.yaml", "role: vm,", "role: container,",
        "container", "families vm and ctr both have the role container", at="role: container, doc: \"a docker"),
    "family-role-vf-without-parent": Case(
        "families.yaml", "role: vm,", "role: vf,",
        "vf", "family vm: role vf needs a parent family with the pf role", at="role: vf, doc: \"a QEMU"),
    "family-without-host-role": Case(
        "families.yaml", "role: host, ", "",
        "host", "families must include the host: a family with role: host", at="  host: {count: 1, doc:"),
    # --- whole-spec static checks
    "duplicate-transition": Case(
        "machines/virtpkg.yaml",
        "  - trigger: uninstall_virt\n    source: installed\n    dest: absent\n",
        "  - trigger: uninstall_virt\n    source: installed\n    dest: absent\n"
        "  - trigger: uninstall_virt\n    source: installed\n    dest: absent\n",
        "uninstall_virt", "duplicate transition: virtpkg.uninstall_virt#2",
        at="  - trigger: uninstall_virt\n", nth=2, also=("virtpkg.uninstall_virt#1",)),
    "ambiguous-transitions": Case(
        "machines/kmd.yaml",
        "    when: not auto_load or (sig_enforced and not signed)",
        "    when: not auto_load or sig_enforced",
        "reboot", "ambiguous transitions",
        at="  - trigger: reboot\n    source: [installed, loaded]\n    dest: installed\n"
           "    when: not auto_load or sig_enforced",
        also=("kmd.reboot#1", "kmd.reboot#2", "make their 'when' conditions exclusive")),
    "state-never-entered": Case(
        "machines/vm.yaml", "states: [off, running]", "states: [off, running, paused]",
        "paused", "state 'paused' of machine 'vm' can never be entered"),
    "rule-never-fires": Case(
        "machines/pf.yaml", "    when: n == numvfs\n", "    when: n == numvfs and n != numvfs\n",
        "write_sriov_numvfs", "transition pf.write_sriov_numvfs#1 can never fire",
        at="  - trigger: write_sriov_numvfs\n    source: \"*\"\n    when: n == numvfs and n != numvfs"),
    # --- YAML and files
    "yaml-syntax-error": Case(
        "machines/vf.yaml", "    dest: vfio\n", "    dest: vfio: x\n",
        None, "YAML syntax error: mapping values are not allowed here"),
    "yaml-duplicate-key": Case(
        "machines/vm.yaml", "    dest: off\n", "    dest: off\n    dest: offline\n",
        "dest", "duplicate key 'dest'", at="    dest: offline"),
    "yaml-tab-in-configs-via-configs-command": Case(
        "configs.yaml", "    description: \"One S60 (EFB-0088800-00): 2-VF",
        "\tdescription: \"One S60 (EFB-0088800-00): 2-VF",
        None, "YAML syntax error: found character '\\t' that cannot start any token",
        command="configs"),
    "missing-families-file": Case(
        "families.yaml", "", None, None, "required spec file is missing: families.yaml", at=None),
    "missing-families-file-via-configs-command": Case(
        "families.yaml", "", None, None, "required spec file is missing: families.yaml", at=None,
        command="configs"),
    "configs-unknown-constant": Case(
        "configs.yaml", "{product: T20, cards: 1, vms: 1, max_opens: 1}",
        "{product: T20, cards: 1, vms: 1, max_open: 1}",
        "max_open", "unknown constant 'max_open' in config t20-asic", command="configs"),
    "configs-not-an-enum-value": Case(
        "configs.yaml", "values: {product: T20, cards: 1, vms: 1, max_opens: 1}\n", "values: {product: T21, cards: 1, vms: 1, max_opens: 1}\n",
        "T21", "'T21' is not a value of enum product", command="configs"),
}

# Edits that once slipped through (found by these tests, now fixed); the text says what
# the loader used to do wrong.
REGRESSIONS = {
    "bug-own-control-assigned-through-singleton": (Case(
        "machines/kmd.yaml",
        "        if c.binding == 'unbound' and c.probe_ok:\n            c.binding = 'enflame'\n",
        "        if c.binding == 'unbound' and c.probe_ok:\n            host.kmd = 'loaded'\n            c.binding = 'enflame'\n",
        "kmd", "changes through 'dest'", at="            host.kmd = 'loaded'", command="configs"),
        "expr._Checker.target only refuses the own control variable when the instance is "
        "SelfRef; `host.kmd = ...` in a host-family machine (inst None) is accepted"),
    "bug-own-control-assigned-through-target-param": (Case(
        "machines/pf.yaml", "    effect: ih_thread = not host.irq_poll_zero_loaded\n",
        "    effect: |\n      ih_thread = not host.irq_poll_zero_loaded\n      card[card].binding = 'enflame'\n",
        "binding", "changes through 'dest'", at="      card[card].binding = 'enflame'", command="configs"),
        "expr._Checker.target: `card[card].binding = ...` (card is the action's target "
        "instance) is ParamRef, not SelfRef, so the own-control check is bypassed"),
    "bug-family-parent-cycle": (Case(
        "families.yaml", "card: {count: cards,", "card: {count: cards, parent: vf,",
        "vf", "parent"),
        "loader.load_families accepts a parent cycle (card <-> vf); layout._family_order "
        "then recurses forever: RecursionError traceback, exit 1"),
    "bug-guard-block-uses-itself": (Case(
        "machines/kmd.yaml",
        "      reqs: [UNLD-4]\n      assumption: \"A device",
        "      reqs: [UNLD-4]\n    - {use: enflame_unloadable}\n    - require: \"True\"\n"
        "      errno: EBUSY\n      message: x\n      reqs: [UNLD-4]\n      assumption: \"A device",
        "enflame_unloadable", "uses itself",
        at="    - {use: enflame_unloadable}\n    - require: \"True\""),
        "loader.load_checks expands {use: name} guard blocks with no depth limit (load_effect "
        "has one): RecursionError traceback, exit 1"),
    "bug-int-set-of-state-has-no-location": (Case(
        "machines/vf.yaml", "require: opens == 0", "require: 0 in {opens}",
        "{opens}", "a set of ints may hold only constants"),
        "the checker types `{opens}` as set[int]; only the grounder finds it is not constant and "
        "raises InvalidSpec without file or line ('<spec>: sets of ints must be constants')"),
    "bug-expression-syntax-error-does-not-quote-culprit": (Case(
        "machines/vf.yaml", "require: opens == 0", "require: opens == = 0",
        "opens == = 0", "syntax error in expression"),
        "expr._parse sets InvalidSpec.culprit to the expression text but the message only says "
        "'syntax error in expression: invalid syntax', so the culprit is not quoted (errors.py "
        "says the culprit is quoted in the message)"),
    "bug-trigger-hint-suggests-wrong-action": (Case(
        "machines/virtpkg.yaml", "trigger: uninstall_virt", "trigger: uninstal_virt",
        "uninstal_virt", "(did you mean 'uninstall_virt'?)"),
        "loader.load_transition's hint takes the first action sharing 4 leading letters "
        "('uninstall_base') instead of the closest name"),
}


def _params():
    out = [pytest.param(case, id=name) for name, case in CASES.items()]
    for name, (case, _history) in REGRESSIONS.items():
        out.append(pytest.param(case, id=name.replace("bug-", "regression-")))
    return out


@pytest.mark.parametrize("case", _params())
def test_malformed_spec_is_rejected(case, tmp_path):
    check_rejected(case, tmp_path)


def test_case_list_is_broad_enough():
    assert len(CASES) >= 20
    assert {c.command for c in CASES.values()} == {"check", "configs"}


# ------------------------------------------------------------------ the harness itself
def test_unedited_copy_loads(tmp_path):
    """The harness is sound: an unedited copy passes `configs` (exit 0, no message)."""
    copy = tmp_path / "specs"
    shutil.copytree(EMBEDDED, copy)
    result = run_cli("configs", copy, tmp_path)
    assert result.returncode == 0, result.stderr
    assert "invalid spec" not in result.stderr


def test_replace_once_refuses_missing_or_repeated_text(tmp_path):
    path = tmp_path / "f.yaml"
    path.write_text("a: 1\nb: 1\n", encoding="utf-8")
    with pytest.raises(AssertionError):
        replace_once(path, "c: 1", "c: 2")
    with pytest.raises(AssertionError):
        replace_once(path, ": 1", ": 2")
    assert replace_once(path, "b: 1", "b: 2") == "a: 1\nb: 2\n"
    assert line_of("a\nb\nc b\n", "b", nth=2) == 3


def test_line_numbers_follow_the_edit(tmp_path):
    """The same error, moved down by inserted lines, is reported at the new line."""
    case = CASES["unknown-errno"]
    copy = tmp_path / "specs"
    shutil.copytree(EMBEDDED, copy)
    vf = copy / case.file
    text = vf.read_text(encoding="utf-8")
    vf.write_text("# one\n# two\n# three\n" + text.replace(case.old, case.new), encoding="utf-8")
    expected = line_of(text.replace(case.old, case.new), case.new) + 3
    result = run_cli("check", copy, tmp_path)
    assert result.returncode == 2
    assert f"specs/machines/vf.yaml:{expected}: unknown errno 'ESEARCH'" in result.stderr


def test_valid_membership_selector_loads(tmp_path):
    copy = tmp_path / "specs"
    shutil.copytree(EMBEDDED, copy)
    replace_once(copy / "machines/pf.yaml", "    when: host.kmd == 'loaded' and probe_ok\n",
                 "    when: host.kmd in {'loaded'} and probe_ok\n")
    result = run_cli("configs", copy, tmp_path)
    assert "Traceback" not in result.stderr
    assert result.returncode == 0, result.stderr
