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
from ..spec.command_forms import LineError, Names, NoDevice

GCU_CONF = "/etc/modprobe.d/gcu.conf"
TEST_CONF = "./gcu_test.conf"
VGCU_CONF = "/etc/modprobe.d/gcu_test.conf"
QUIRK_DIR = "/etc/qemu-quirks/enflame"                 # QEMU-3: one access-control file per card


class CommandError(ValueError):
    """A line that is not one of the commands this module knows, or a bad option in one;
    `no_device`: its words fit but it names a device the host has not; `status`: the exit
    status the program gives then (commands.yaml `fails:`)."""

    def __init__(self, message: str, no_device: bool = False, status: int = 1):
        super().__init__(message)
        self.no_device = no_device
        self.status = status


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
    form: object = None  # the commands.yaml form it matched (its waits: and says:)
    captured: tuple = ()  # ((placeholder, text), ...) as the line wrote them

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


class CardAddresses(Names):
    """Names without a host: a card by its PCI address, card N at 0000:0(N+1):00.0. Any other
    name (a device id, a VF's address) is the running host's to give."""

    def __init__(self, spec):
        self.spec = spec

    def _cards(self, placeholder) -> bool:
        ph = self.spec.surface.placeholders.get(placeholder) if self.spec.surface is not None else None
        return ph is not None and ph.namer == "pci_function" and ph.family == self.spec.family_of("pf")

    def instance(self, placeholder, text):
        if not self._cards(placeholder):
            raise NoDevice(f"which device {text} is only a running host can say")
        if not re.fullmatch(r"(?:[0-9a-fA-F]{4}:)?[0-9a-fA-F]{2}:00\.0", text):        # an address, never a label
            raise NoDevice(f"'{text}' is not the PCI address of a GCU card (0000:01:00.0, 0000:02:00.0, ...)")
        return card_of(text, self.spec)

    def name(self, placeholder, label):
        family = self.spec.family_of("pf")
        if not self._cards(placeholder) or not re.fullmatch(rf"{re.escape(family)}\d+", label):
            return None
        return bdf(int(label[len(family):]))


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
    """A command line cut at `;`, `&&` and `|` outside quotes and escapes, and after a `&`
    (its command runs in the background, the next one at once), comments dropped:
    [(joiner, words)] with joiner None, ';', '&&' or '|'. An unclosed quote is ValueError."""
    lexer = shlex.shlex(line, posix=True, punctuation_chars=";&|")
    lexer.whitespace_split = True
    out, words, joiner = [], [], None
    for token in lexer:
        if token in (";", "&&", "|"):
            out.append((joiner, words))
            joiner, words = token, []
        elif token == "&":
            out.append((joiner, words + [token]))
            joiner, words = ";", []
        else:
            words.append(token)
    out.append((joiner, words))
    return [(j, w) for j, w in out if w]


def parse(line: str, spec, names: Names | None = None) -> Parsed:
    """One command line of a set-up -> the model's action text; `names` says which device a
    line names (the running host's; cards by PCI address when none is given)."""
    text = line.strip()
    try:
        words = shlex.split(text)
    except ValueError as exc:
        raise CommandError(f"cannot split '{text}': {exc}") from None
    while words and words[0] == "sudo":
        words = words[1:]
    if not words:
        raise CommandError("empty command")
    captured: dict = {}
    try:
        found = (spec.commands.match(words, names or CardAddresses(spec), captured)
                 if spec.commands is not None else None)
    except LineError as exc:
        raise CommandError(str(exc), isinstance(exc, NoDevice), exc.status) from None
    if found is not None:                                  # specs/commands.yaml
        form, values = found
        decl = spec.actions[form.action]
        action = str(Action.of(form.action, **{q.name: values[q.name] for q in decl.params}))
        return Parsed((action,), line, form=form, captured=tuple(sorted(captured.items())))
    head = words[0].rsplit("/", 1)[-1]
    known = spec.commands.lines_of_program(words[0]) if spec.commands else []
    if known:
        raise CommandError(f"{head}: the model knows " + ", ".join(f"'{k}'" for k in known)
                           + (f", not: {' '.join(words[1:])}" if words[1:] else ""))
    if head == "echo":
        if len(words) >= 3 and words[-2] in (">", ">>") and words[-1].startswith("/sys/"):
            action = _sysfs_write(words[-1], " ".join(words[1:-2]), spec, names)
            return Parsed((action,) if action else (), line)
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


def render(action, spec, names: Names | None = None) -> str:
    """An action (text or Action) -> the command line a user types (devices named by `names`,
    the running host's; cards by PCI address when none is given)."""
    parsed = Action.parse(action)
    name, p = parsed.name, parsed.kwargs
    fixed = spec.commands.line_of(name, p, names or CardAddresses(spec)) if spec.commands is not None else None
    if fixed is not None:                                  # specs/commands.yaml
        return fixed
    lines = spec.commands.option_lines if spec.commands is not None else None
    option_line = lines.line_of(name, _as_written(name, p, spec)) if lines is not None else None
    if option_line is not None:                            # specs/commands.yaml option_lines
        return option_line
    if names is None and spec.surface is not None:        # surface.yaml: a sysfs write of a card's
        static = CardAddresses(spec)
        written = spec.surface.write_line(name, p, lambda f, ph, label: static.name(ph, label))
        if written is not None:
            return written
    raise CommandError(f"no command form for the action {action}")


def _sysfs_write(path: str, text: str, spec, names) -> str | None:
    """`echo TEXT > PATH` as the action surface.yaml says the write is (cards by PCI
    address, or as `names` names devices)."""
    from ..spec.surface import WriteError
    namer = names or CardAddresses(spec)
    try:
        found = spec.surface.write_of(path, text, namer.instance) if spec.surface is not None else None
    except (LineError, WriteError) as exc:
        raise CommandError(f"echo {text} > {path}: {exc}", isinstance(exc, NoDevice)) from None
    if found == ():
        return None                                          # a value Linux ignores: nothing happens
    if found is None:
        raise CommandError(f"echo {text} > {path}: the spec declares no action for a write of that file "
                           "(surface.yaml)")
    name, params = found
    decl = spec.actions[name]
    return str(Action.of(name, **{q.name: params[q.name] for q in decl.params if q.name in params}))
