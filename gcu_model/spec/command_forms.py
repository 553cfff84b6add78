"""specs/commands.yaml: the guide's fixed command lines and the action each is (issue 16,
item 1), parsed and checked against the machines here. shell/commands.py reads a line
through `CommandForms.action_of` and writes an action back with `line_of`.
"""
from __future__ import annotations

import fnmatch
import shlex
from dataclasses import dataclass, field

from .errors import InvalidSpec
from .types import BoolT, EnumT, IntT
from .yamlfile import LDict, LList

ANY_WORDS = "..."


@dataclass(frozen=True)
class CommandForm:
    line: str                 # as the guide writes it
    forms: tuple              # word patterns, the line's own first (without a leading sudo)
    action: str
    args: tuple = ()          # ((param, text value), ...) in the action's parameter order
    where: object = None

    @property
    def action_text(self) -> str:
        inner = ", ".join(f"{k}={v}" for k, v in self.args)
        return f"{self.action}({inner})"


@dataclass
class CommandForms:
    forms: list = field(default_factory=list)

    def action_of(self, words: list) -> str | None:
        """The action text of a command line's words (a leading sudo dropped), or None."""
        words = _without_sudo(words)
        for form in self.forms:
            if any(_matches(pattern, words) for pattern in form.forms):
                return form.action_text
        return None

    def line_of(self, name: str, params: dict) -> str | None:
        """The line that is action `name` with these parameter texts, or None."""
        for form in self.forms:
            if form.action == name and all(params.get(k) == v for k, v in form.args):
                return form.line
        return None


def load_command_forms(data, spec, display: str) -> CommandForms:
    if not isinstance(data, LDict):
        raise InvalidSpec("commands.yaml must be a mapping", display, 1)
    for k in data:
        if k != "commands":
            raise data.where(k).error(f"commands.yaml: unknown key '{k}' (allowed: commands)", str(k))
    items = data.get("commands")
    if items is None:
        return CommandForms()
    if not isinstance(items, LList):
        raise data.where("commands").error("commands: expected a list")
    out = CommandForms()
    seen = {}
    for i, body in enumerate(items):
        w = items.where(i)
        if not isinstance(body, LDict):
            raise w.error("a command: expected a mapping")
        form = _form(body, w, spec)
        earlier = out.action_of(list(form.forms[0]))
        if earlier is not None:
            raise body.where("line").error(f"'{form.line}' reads as {earlier}: an earlier command matches it "
                                           "first (the first match wins)", form.line)
        for pattern in form.forms:
            key = tuple(pattern)
            if key in seen:
                raise w.error(f"'{' '.join(pattern)}' means {seen[key]} already", " ".join(pattern))
            seen[key] = form.action_text
        out.forms.append(form)
    return out


def _form(body: LDict, w, spec) -> CommandForm:
    for k in body:
        if k not in {"line", "match", "action", "args"}:
            raise body.where(k).error(f"a command: unknown key '{k}' (allowed: action, args, line, match)", str(k))
    for k in ("line", "action"):
        if k not in body:
            raise body.where().error(f"a command: missing key '{k}'", k)
    line = str(body["line"])
    patterns = [_split(line, body.where("line"))]
    extra = body.get("match", LList())
    if not isinstance(extra, LList):
        raise body.where("match").error(f"{line}: match: expected a list of command lines")
    patterns += [_split(str(m), body.where("match")) for m in extra]
    action = str(body["action"])
    decl = spec.actions.get(action)
    if decl is None:
        raise body.where("action").error(f"{line}: no action '{action}' in the machines", action)
    args = body.get("args", LDict())
    if not isinstance(args, LDict):
        raise body.where("args").error(f"{line}: args: expected a mapping of parameter: value")
    texts = {}
    for p in decl.params:
        if p.is_instance:
            raise body.where("action").error(f"{line}: action {action} names an instance ({p.name}); a fixed "
                                             "command line cannot say which", p.name)
        if p.name not in args:
            raise body.where("action").error(f"{line}: action {action} needs its parameter {p.name} in args", p.name)
        texts[p.name] = _value_text(p, args[p.name], args.where(p.name), line)
    for k in args:
        if k not in texts:
            raise args.where(k).error(f"{line}: action {action} has no parameter '{k}'", str(k))
    return CommandForm(line, tuple(patterns), action, tuple(texts.items()), w)


def _value_text(param, value, w, line) -> str:
    t = param.type
    if isinstance(t, EnumT):
        if value not in t.values:
            raise w.error(f"{line}: '{value}' is not a value of {param.name} (one of {', '.join(t.values)})", str(value))
        return str(value)
    if isinstance(t, BoolT):
        if not isinstance(value, bool):
            raise w.error(f"{line}: {param.name} is true or false, not '{value}'", str(value))
        return str(value).lower()
    if isinstance(t, IntT) and (isinstance(value, bool) or not isinstance(value, int)):
        raise w.error(f"{line}: {param.name} is a number, not '{value}'", str(value))
    return str(value)


def _split(line: str, w) -> tuple:
    try:
        words = shlex.split(line)
    except ValueError as exc:
        raise w.error(f"'{line}': {exc}", line) from None
    words = _without_sudo(words)
    if not words:
        raise w.error("an empty command line", line)
    return tuple(words)


def _without_sudo(words):
    words = list(words)
    while words and words[0] == "sudo":
        words = words[1:]
    return words


def _matches(pattern: tuple, words: list, first: bool = True) -> bool:
    if not pattern:
        return not words
    head, rest = pattern[0], pattern[1:]
    if head == ANY_WORDS:
        return any(_matches(rest, words[k:], False) for k in range(len(words) + 1))
    if not words or not _word(head, words[0], first):
        return False
    return _matches(rest, words[1:], False)


def _word(pattern: str, word: str, program: bool) -> bool:
    """A glob, or the program by its file name, matches the file name of a word with a path
    (/usr/src/.../sign-file, ./enflame-1.0.run); any other word matches itself."""
    glob = any(c in pattern for c in "*?[")
    subject = word.rsplit("/", 1)[-1] if (glob or program) and "/" not in pattern else word
    return fnmatch.fnmatchcase(subject, pattern) if glob else subject == pattern
