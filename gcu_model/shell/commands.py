"""The guide's own command lines for the model's host set-up actions, both ways.

`parse` turns a line such as `sudo ./enflame-xxx.run --virt-host --vf-num 4` into the
action text the model takes (`install_base(opt_mode=virt_host, opt_vf_num=4,
opt_auto_load=true)`); `render` writes an action back as the command a user types, in
the guide's form (§3, §5, §9.4, §11.2). `gcu-model solve` reads set-ups and prints its
answers with them; the runbook language (issue 7) grows from here.

A card is named by its PCI address. The model numbers cards card0, card1 ...; the
reference host puts card N at 0000:0(N+1):00.0, as the guide's gcu0 at 0000:01:00.0 (§11.2).
"""
from __future__ import annotations

import re
import shlex
from dataclasses import dataclass

from ..core.outcome import Action

GCU_CONF = "/etc/modprobe.d/gcu.conf"
TEST_CONF = "./gcu_test.conf"
VGCU_CONF = "/etc/modprobe.d/gcu_test.conf"
QUIRK_DIR = "/etc/qemu-quirks/enflame"                 # QEMU-3: one access-control file per card
QUIRK_SAMPLE = "caps/qemu/qirk-config-sample.conf"     # the sample's name as the guide spells it (§7.2)
VGCU_VALUES = {"two": "2", "four": "4"}
MODE_FLAGS = {"vgcu": "--with-vgcu", "mdev_host": "--mdev-host", "virt_host": "--virt-host"}
# accepted by the run package and not modelled: how the module is rebuilt on kernel updates
IGNORED_FLAGS = {"--with-dkms", "--no-dkms"}
# the module options whose lines the model turns into actions; any other key is kept by the
# host as text (PARAM-1: enable_ssm_rt_fw, enable_sip_timeout_interval_ms, ...)
MODELLED_OPTIONS = {"vgcu_num", "reset_enable", "gcu_whitelist_str", "irq_poll_interval"}
OPTION_FILES = {GCU_CONF, TEST_CONF, "gcu_test.conf", VGCU_CONF}


class CommandError(ValueError):
    """A line that is not one of the commands this module knows, or a bad option in one."""


@dataclass(frozen=True)
class Parsed:
    """One command line: the model's actions it stands for, in order, and the module options
    it writes that the model leaves alone (PARAM-1: enable_ssm_rt_fw, ...), for the host
    to keep. A line such as `echo 'options enflame "enable_ssm_rt_fw=0,reset_enable=0"' >>
    gcu_test.conf` has both."""
    actions: tuple       # the model's action texts
    line: str            # the line as given
    options: tuple = ()  # (key, value) pairs the model does not decide on, written to `file`
    file: str | None = None
    append: bool = True

    @property
    def action(self) -> str:
        if len(self.actions) != 1:
            raise CommandError(f"'{self.line}' stands for {len(self.actions)} actions of the model, not one")
        return self.actions[0]

    def singles(self) -> list:
        """One Parsed per model action of the line."""
        return [Parsed((a,), self.line) for a in self.actions]


def bdf(card_index: int) -> str:
    return f"0000:{card_index + 1:02x}:00.0"


def _pf_family(spec) -> str:
    family = spec.family_of("pf")
    if family is None:
        raise CommandError("the spec has no family with role: pf (families.yaml), so no command names a card")
    return family


def card_of(address: str, spec) -> str:
    """'0000:01:00.0', '01:00.0' or 'card0' -> 'card0' (the label of the pf role's family)."""
    family = _pf_family(spec)
    if re.fullmatch(rf"{re.escape(family)}\d+", address):
        return address
    m = re.fullmatch(r"(?:[0-9a-fA-F]{4}:)?([0-9a-fA-F]{2}):00\.0", address)
    if not m or int(m.group(1), 16) < 1:
        raise CommandError(f"'{address}' is not the PCI address of a GCU card (0000:01:00.0, 0000:02:00.0, ...)")
    return f"{family}{int(m.group(1), 16) - 1}"


def _pf_param(spec, name: str) -> str:
    """The parameter of action `name` that names a card (its type: the pf role's family)."""
    family = _pf_family(spec)
    decl = spec.actions.get(name)
    found = [p.name for p in decl.params if p.is_instance and p.type == family] if decl is not None else []
    if len(found) != 1:
        raise CommandError(f"the spec's action {name} has no one parameter of family {family}")
    return found[0]


def _card_action(spec, name: str, card_label: str, **params) -> str:
    """Action `name` with the card given by its label, the other parameters by name."""
    decl = spec.actions.get(name)
    if decl is None:
        raise CommandError(f"the spec has no action {name}")
    values = {_pf_param(spec, name): card_label, **params}
    return str(Action.of(name, **{p.name: values[p.name] for p in decl.params if p.name in values}))


def _card_index(spec, name: str, params: dict) -> int:
    """The index of the card action `name` names in `params`."""
    return int(params[_pf_param(spec, name)][len(_pf_family(spec)):])


def _action(name, **params) -> str:
    return str(Action.of(name, **params))


def _echo_options(words, line):
    """echo 'options enflame "k=v[,k2=v2]"' >|>> FILE -> ([(key, value)], file, append) (PARAM-3)."""
    if len(words) != 4 or words[2] not in (">", ">>"):
        raise CommandError(f"expected: echo 'options enflame \"key=value\"' > FILE, got: {line}")
    m = re.fullmatch(r'options enflame "?([^"]*)"?', words[1])
    pairs = [p.strip().split("=", 1) for p in m.group(1).split(",")] if m else []
    if not pairs or any(len(p) != 2 or not re.fullmatch(r"[a-z_]+", p[0]) for p in pairs):
        raise CommandError(f"expected options enflame \"key=value[,key2=value2]\", got: {words[1]}")
    return [tuple(p) for p in pairs], words[3], words[2] == ">>"


def _option_action(key, value, target, spec):
    """One key=value of an options line -> the model's action, or None for a key the model
    leaves alone."""
    conf = {GCU_CONF: "gcu_conf", TEST_CONF: "tmp_conf", "gcu_test.conf": "tmp_conf"}.get(target)
    if key == "vgcu_num":
        if target != VGCU_CONF:
            raise CommandError(f"vgcu_num goes to {VGCU_CONF} (§3), not {target}")
        inverse = {v: k for k, v in VGCU_VALUES.items()}
        if value not in inverse:
            raise CommandError(f"vgcu_num={value}: the guide's values are 2 and 4")
        return _action("write_vgcu_num", value=inverse[value])
    if key == "reset_enable":
        if conf is None:
            raise CommandError(f"reset_enable goes to {GCU_CONF} or {TEST_CONF}, not {target}")
        number = int(value, 0) if re.fullmatch(r"0x[0-9a-fA-F]+|\d+", value) else None
        named = [name for name, word in spec.bits["reset_enable"]["masks"].items() if word == number]
        if not named:
            raise CommandError(f"reset_enable={value}: the model knows "
                               + " and ".join(reset_words(spec).values()))
        return _action("write_option", file=conf, value=named[0])
    if key == "gcu_whitelist_str" and target == GCU_CONF:
        return _card_action(spec, "write_gcu_whitelist", card_of(value, spec))
    if key == "irq_poll_interval" and target == GCU_CONF:
        if not value.isdigit():
            raise CommandError(f"irq_poll_interval={value}: expected a number of ms")
        return _action("write_irq_poll_interval", zero=value == "0")
    if key in MODELLED_OPTIONS:
        raise CommandError(f"the model does not know the option line '{key}={value}' in {target}")
    if target not in OPTION_FILES:
        raise CommandError(f"options go to {', '.join(sorted(OPTION_FILES))}, not {target}")
    return None


def reset_words(spec) -> dict:
    """reset_enable value -> the text an options line writes for it: the word of
    constants.yaml `bits: reset_enable: masks` (PARAM-4), in hex, 0 as the guide writes it."""
    return {name: f"{word:#x}" if word else "0" for name, word in spec.bits["reset_enable"]["masks"].items()}


def _run_package(words, line):
    """The base run package with its install options (INST-2); the packages' fixed lines
    (the virt and peermem packages, --uninstall) are specs/commands.yaml's."""
    prog, opts = words[0], words[1:]
    base = prog.rsplit("/", 1)[-1]
    for package in ("enflame_virt", "enflame_peer_mem"):
        if re.fullmatch(rf"{package}-[^/\s]+\.run", base):
            raise CommandError(f"{package}: unknown option(s) {' '.join(opts)}")
    mode, vf_num, auto_load = "asic", 0, True
    k = 0
    while k < len(opts):
        o = opts[k]
        if o == "--no-auto-load":
            auto_load = False
        elif o in IGNORED_FLAGS:
            pass
        elif o in MODE_FLAGS.values():
            new = next(m for m, f in MODE_FLAGS.items() if f == o)
            if mode != "asic" and mode != new:
                raise CommandError(f"{prog}: {MODE_FLAGS[mode]} and {o} exclude each other")
            mode = new
        elif o == "--vf-num" or o.startswith("--vf-num="):
            value = o.split("=", 1)[1] if "=" in o else (opts[k + 1] if k + 1 < len(opts) else "")
            k += 0 if "=" in o else 1
            if not value.isdigit():
                raise CommandError(f"{prog}: --vf-num needs a number, got '{value}'")
            vf_num = int(value)
        else:
            raise CommandError(f"{prog}: unknown option {o}")
        k += 1
    return _action("install_base", opt_mode=mode, opt_vf_num=vf_num, opt_auto_load=auto_load)


def split_line(line: str) -> list:
    """A command line cut at `;`, `&&` and `|` outside quotes and escapes, comments dropped:
    [(joiner, words)] with joiner None, ';', '&&' or '|'. An unclosed quote is ValueError."""
    lexer = shlex.shlex(line, posix=True, punctuation_chars=";&|")
    lexer.whitespace_split = True
    out, words, joiner = [], [], None
    for token in lexer:
        if token in (";", "&&", "|"):
            out.append((joiner, words))
            joiner, words = token, []
        else:
            words.append(token)
    out.append((joiner, words))
    return [(j, w) for j, w in out if w]


def parse(line: str, spec) -> Parsed:
    """One command line of a set-up -> the model's action text."""
    text = line.strip()
    try:
        words = shlex.split(text)
    except ValueError as exc:
        raise CommandError(f"cannot split '{text}': {exc}") from None
    while words and words[0] == "sudo":
        words = words[1:]
    if not words:
        raise CommandError("empty command")
    fixed = spec.commands.action_of(words) if spec.commands is not None else None
    if fixed is not None:                                  # specs/commands.yaml
        return Parsed((fixed,), line)
    head = words[0]
    if re.fullmatch(r"(\./|/\S*/)?enflame[\w.\-]*\.run", head):
        return Parsed((_run_package(words, text),), line)
    if head in ("modprobe", "rmmod"):
        known = [f.line for f in spec.commands.forms if f.forms[0][0] == head] if spec.commands else []
        raise CommandError(f"{head}: the model knows " + (", ".join(f"'{k}'" for k in known) or "no such line")
                           + f", not: {' '.join(words[1:])}")
    quirk = re.fullmatch(re.escape(QUIRK_DIR) + r"/([0-9a-fA-F:.]+)\.conf", words[-1])
    if quirk and head == "cp" and [w for w in words[1:-1] if w != "-f"] in ([QUIRK_SAMPLE], ["./" + QUIRK_SAMPLE]):
        return Parsed((_card_action(spec, "write_qemu_acl", card_of(quirk.group(1), spec), present=True),), line)
    if quirk and head == "rm" and words[1:-1] in ([], ["-f"]):
        return Parsed((_card_action(spec, "write_qemu_acl", card_of(quirk.group(1), spec), present=False),), line)
    if head == "echo":
        if len(words) == 4 and words[3].endswith("/sriov_numvfs") and words[2] == ">":
            m = re.fullmatch(r"/sys/bus/pci/devices/([^/]+)/sriov_numvfs", words[3])
            if not m or not words[1].isdigit():
                raise CommandError(f"expected: echo N > /sys/bus/pci/devices/BDF/sriov_numvfs, got: {text}")
            return Parsed((_card_action(spec, "write_sriov_numvfs", card_of(m.group(1), spec), n=int(words[1])),), line)
        pairs, target, append = _echo_options(words, text)
        actions, options = [], []
        for key, value in pairs:
            action = _option_action(key, value, target, spec)
            if action is None:
                options.append((key, value))
            else:
                actions.append(action)
        return Parsed(tuple(actions), line, tuple(options), target, append)
    raise CommandError(f"unknown command: {text}")


def render(action, spec) -> str:
    """An action (text or Action) -> the command line a user types."""
    parsed = Action.parse(action)
    name, p = parsed.name, parsed.kwargs
    if name == "install_base":
        words = ["sudo ./enflame-xxx.run"]
        if p["opt_auto_load"] == "false":
            words.append("--no-auto-load")
        if p["opt_mode"] != "asic":
            words.append(MODE_FLAGS[p["opt_mode"]])
        if p["opt_vf_num"] != "0":
            words.append(f"--vf-num {p['opt_vf_num']}")
        return " ".join(words)
    fixed = spec.commands.line_of(name, p) if spec.commands is not None else None
    if fixed is not None:                                  # specs/commands.yaml
        return fixed
    if name == "write_option":
        target = GCU_CONF if p["file"] == "gcu_conf" else TEST_CONF
        return f"echo 'options enflame \"reset_enable={reset_words(spec)[p['value']]}\"' >> {target}"
    if name == "write_vgcu_num":
        return f"echo 'options enflame \"vgcu_num={VGCU_VALUES[p['value']]}\"' > {VGCU_CONF}"
    if name == "write_gcu_whitelist":
        return f"echo 'options enflame \"gcu_whitelist_str={bdf(_card_index(spec, name, p))[5:]}\"' >> {GCU_CONF}"
    if name == "write_irq_poll_interval":
        return f"echo 'options enflame \"irq_poll_interval={0 if p['zero'] == 'true' else 10}\"' >> {GCU_CONF}"
    if name == "write_qemu_acl":
        path = f"{QUIRK_DIR}/{bdf(_card_index(spec, name, p))}.conf"
        return f"sudo cp {QUIRK_SAMPLE} {path}" if p["present"] == "true" else f"sudo rm -f {path}"
    if name == "write_sriov_numvfs":
        return f"echo {p['n']} > /sys/bus/pci/devices/{bdf(_card_index(spec, name, p))}/sriov_numvfs"
    raise CommandError(f"no command form for the action {action}")
