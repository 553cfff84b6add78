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
from ..spec.command_forms import LineError

GCU_CONF = "/etc/modprobe.d/gcu.conf"
TEST_CONF = "./gcu_test.conf"
VGCU_CONF = "/etc/modprobe.d/gcu_test.conf"
QUIRK_DIR = "/etc/qemu-quirks/enflame"                 # QEMU-3: one access-control file per card


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
    """One key=value of an options line -> the model's action (commands.yaml option_lines),
    or None for a key the model leaves alone."""
    lines = spec.commands.option_lines if spec.commands is not None else None
    if lines is None:
        raise CommandError(f"the spec declares no option lines (commands.yaml), so '{key}={value}' means nothing")
    try:
        found = lines.action_of(key, value, target)
    except LineError as exc:
        raise CommandError(str(exc)) from None
    if found is None:
        return None
    entry, values = found
    return _table_action(entry.action, values, spec, key)


def _table_action(name: str, values: dict, spec, where: str) -> str:
    """The action text a commands.yaml row gives (a form, an option line): its instance
    parameters, named as the user wrote them (a card's PCI address), become the model's labels."""
    decl = spec.actions[name]
    family = spec.family_of("pf")
    for param in decl.params:
        if param.is_instance:
            if param.type != family:
                raise CommandError(f"{where}: {param.name} is a {param.type}; a command line names cards only")
            values[param.name] = card_of(values[param.name], spec)
    return str(Action.of(name, **{q.name: values[q.name] for q in decl.params}))


def _as_written(name: str, params: dict, spec) -> dict:
    """An action's parameter texts with its cards named as a user writes them (PCI addresses)."""
    decl = spec.actions.get(name)
    family = spec.family_of("pf")
    out = dict(params)
    for param in decl.params if decl is not None else ():
        if param.is_instance and param.type == family and param.name in out:
            out[param.name] = bdf(int(out[param.name][len(family):]))
    return out


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
    try:
        found = spec.commands.match(words) if spec.commands is not None else None
    except LineError as exc:
        raise CommandError(str(exc)) from None
    if found is not None:                                  # specs/commands.yaml
        form, values = found
        return Parsed((_table_action(form.action, values, spec, form.line),), line)
    head = words[0]
    if head in ("modprobe", "rmmod"):
        known = [f.line for f in spec.commands.forms if f.forms[0][0] == head] if spec.commands else []
        raise CommandError(f"{head}: the model knows " + (", ".join(f"'{k}'" for k in known) or "no such line")
                           + f", not: {' '.join(words[1:])}")
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
    fixed = spec.commands.line_of(name, _as_written(name, p, spec)) if spec.commands is not None else None
    if fixed is not None:                                  # specs/commands.yaml
        return fixed
    lines = spec.commands.option_lines if spec.commands is not None else None
    option_line = lines.line_of(name, _as_written(name, p, spec)) if lines is not None else None
    if option_line is not None:                            # specs/commands.yaml option_lines
        return option_line
    if name == "write_sriov_numvfs":
        return f"echo {p['n']} > /sys/bus/pci/devices/{bdf(_card_index(spec, name, p))}/sriov_numvfs"
    raise CommandError(f"no command form for the action {action}")
