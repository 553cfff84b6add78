"""specs/commands.yaml: the guide's command lines and the action each is (issue 16, item 1),
parsed and checked against the machines here. shell/commands.py reads a line through
`CommandForms.match` and writes an action back with `line_of`.

A form is a line of words; a word may hold placeholders (`$PF`, `$N`) that stand for a
parameter's value, and a form may take options (`--vf-num $N`, `--virt-host`) in any order
after its words, each setting parameters away from the form's `args`. A placeholder bound
to an instance parameter captures the instance's name as the user writes it (a PCI address);
the caller turns it into the model's label (`match(..., instance=...)`).
"""
from __future__ import annotations

import fnmatch
import re
import shlex
from dataclasses import dataclass, field

from .action import Action
from .errors import InvalidSpec
from .types import BoolT, EnumT, IntT
from .yamlfile import LDict, LList

ANY_WORDS = "..."
_PLACEHOLDER = re.compile(r"\$([A-Z][A-Z0-9_]*)")
_VALUE_TEXT = {"int": r"\d+", "instance": r"[0-9A-Za-z:._-]+", "word": r"[^\s/]+"}


class LineError(ValueError):
    """A line a form's words match whose options or values are not the form's."""


@dataclass(frozen=True)
class CommandOption:
    flag: str                 # --vf-num
    value: str | None         # the placeholder of its value (N for `--vf-num $N`), or None
    sets: tuple               # ((param, text or "$N"), ...)

    @property
    def text(self) -> str:
        return self.flag if self.value is None else f"{self.flag} ${self.value}"


@dataclass(frozen=True)
class CommandForm:
    line: str                 # as the guide writes it
    forms: tuple              # word patterns, the line's own first (without a leading sudo)
    action: str
    args: tuple = ()          # ((param, text value or "$NAME"), ...) in the action's parameter order
    options: tuple = ()       # CommandOption, in the order a line is written with them
    kinds: tuple = ()         # ((placeholder, "int" | "instance" | "word"), ...)
    where: object = None

    @property
    def shown(self) -> str:
        """The action as the form gives it, placeholders left in (docs, messages)."""
        return str(Action(self.action, self.args))

    def _kind(self, name: str) -> str:
        return dict(self.kinds)[name]

    def _word_regex(self, pattern: str):
        parts, at = [], 0
        for m in _PLACEHOLDER.finditer(pattern):
            parts.append(re.escape(pattern[at:m.start()]))
            parts.append(f"(?P<{m.group(1)}>{_VALUE_TEXT[self._kind(m.group(1))]})")
            at = m.end()
        parts.append(re.escape(pattern[at:]))
        return re.compile("".join(parts))

    def words_match(self, pattern: tuple, words: list, captured: dict, first: bool = True) -> int | None:
        """How many words the pattern matches (all of them without options), filling `captured`."""
        if not pattern:
            return 0 if (self.options or not words) else None
        head, rest = pattern[0], pattern[1:]
        if head == ANY_WORDS:
            for k in range(len(words) + 1):
                n = self.words_match(rest, words[k:], captured, False)
                if n is not None:
                    return k + n
            return None
        if not words:
            return None
        if _PLACEHOLDER.search(head):
            m = self._word_regex(head).fullmatch(words[0])
            if m is None:
                return None
            captured.update(m.groupdict())
        elif not _word(head, words[0], first):
            return None
        n = self.words_match(rest, words[1:], captured, False)
        return None if n is None else n + 1

    def read_options(self, words: list, captured: dict) -> dict:
        """The parameters the option words set ({param: text}); LineError for any other word."""
        program = self.forms[0][0]
        out: dict = {}
        by_flag = {o.flag: o for o in self.options}
        k = 0
        while k < len(words):
            word = words[k]
            flag, _, inline = word.partition("=")
            option = by_flag.get(flag)
            if option is None:
                known = " ".join(f"[{o.text}]" for o in self.options)
                raise LineError(f"{program}: unknown option {word} (it takes {known})")
            if option.value is not None:
                if not inline:
                    k += 1
                    inline = words[k] if k < len(words) else ""
                if not re.fullmatch(_VALUE_TEXT[self._kind(option.value)], inline):
                    wanted = "a number" if self._kind(option.value) == "int" else "a value"
                    raise LineError(f"{program}: {flag} needs {wanted}, got " + (f"'{inline}'" if inline else "nothing"))
                captured[option.value] = inline
            elif inline:
                raise LineError(f"{program}: {flag} takes no value")
            for param, value in option.sets:
                value = captured[value[1:]] if value.startswith("$") else value
                if param in out and out[param][1] != value:
                    raise LineError(f"{program}: {out[param][0]} and {flag} exclude each other")
                out[param] = (flag, value)
            k += 1
        return {p: v for p, (_, v) in out.items()}


@dataclass
class CommandForms:
    forms: list = field(default_factory=list)
    option_lines: object = None           # spec/option_lines.py OptionLines (the loader sets it)

    def match(self, words: list) -> tuple | None:
        """(form, {param: text}) for a command line's words (a leading sudo dropped), or None.
        Instance parameters hold the text the user wrote. LineError when a form's words match
        but its options do not and no later form matches."""
        words = _without_sudo(words)
        problem = None
        for form in self.forms:
            for pattern in form.forms:
                captured: dict = {}
                n = form.words_match(pattern, words, captured)
                if n is None:
                    continue
                try:
                    set_by_options = form.read_options(words[n:], captured)
                except LineError as exc:
                    problem = problem or exc
                    continue
                values = {p: (captured[v[1:]] if v.startswith("$") else v) for p, v in form.args}
                values.update(set_by_options)
                return form, values
        if problem is not None:
            raise problem
        return None

    def line_of(self, name: str, params: dict) -> str | None:
        """The line that is action `name` with these parameter texts (instances as the user
        names them), or None when no form writes it."""
        for form in self.forms:
            if form.action != name:
                continue
            line = _fill(form, params)
            if line is None:
                continue
            try:
                got = self.match(shlex.split(line))
            except LineError:
                got = None
            if got is not None and got[0] is form and all(got[1].get(k) == str(v) for k, v in params.items()):
                return line
        return None


def _fill(form: CommandForm, params: dict) -> str | None:
    """The form's line with its placeholders and the options these parameters need."""
    bound = {}
    for param, value in form.args:
        if value.startswith("$"):
            if param not in params:
                return None
            bound[value[1:]] = str(params[param])
        elif not form.options and str(params.get(param)) != value:
            return None
    line = _PLACEHOLDER.sub(lambda m: bound.get(m.group(1), m.group(0)), form.line)
    defaults = dict(form.args)
    words = []
    for option in form.options:
        sets = dict(option.sets)
        if option.value is not None:
            param = next(p for p, v in option.sets if v == f"${option.value}")
            if str(params.get(param)) != defaults.get(param):
                words.append(f"{option.flag} {params.get(param)}")
        elif all(str(params.get(p)) == v for p, v in sets.items()) and any(defaults.get(p) != v for p, v in sets.items()):
            words.append(option.flag)
    if _PLACEHOLDER.search(line):
        return None
    return " ".join([line, *words])


def load_command_forms(data, spec, display: str) -> CommandForms:
    if not isinstance(data, LDict):
        raise InvalidSpec("commands.yaml must be a mapping", display, 1)
    for k in data:
        if k not in ("commands", "option_lines"):
            raise data.where(k).error(f"commands.yaml: unknown key '{k}' (allowed: commands, option_lines)", str(k))
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
        if not _PLACEHOLDER.search(form.line):
            try:
                earlier = out.match(list(form.forms[0]))
            except LineError:
                earlier = None
            if earlier is not None:
                raise body.where("line").error(f"'{form.line}' reads as {earlier[0].shown}: an earlier command "
                                               "matches it first (the first match wins)", form.line)
        for pattern in form.forms:
            key = tuple(pattern)
            if key in seen:
                raise w.error(f"'{' '.join(pattern)}' means {seen[key]} already", " ".join(pattern))
            seen[key] = form.shown
        out.forms.append(form)
    return out


def _form(body: LDict, w, spec) -> CommandForm:
    for k in body:
        if k not in {"line", "match", "action", "args", "options"}:
            raise body.where(k).error(f"a command: unknown key '{k}' (allowed: action, args, line, match, "
                                      "options)", str(k))
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
    params = {p.name: p for p in decl.params}
    args = body.get("args", LDict())
    if not isinstance(args, LDict):
        raise body.where("args").error(f"{line}: args: expected a mapping of parameter: value")
    kinds: dict = {}
    texts = {}
    for p in decl.params:
        if p.name not in args:
            how = f" (a {p.type}: a placeholder of the line, such as $PF)" if p.is_instance else ""
            raise body.where("action").error(f"{line}: action {action} needs its parameter {p.name} in args{how}",
                                             p.name)
        texts[p.name] = _arg(p, args[p.name], args.where(p.name), line, kinds)
    for k in args:
        if k not in texts:
            raise args.where(k).error(f"{line}: action {action} has no parameter '{k}'", str(k))
    options = _options(body, params, line, kinds)
    if options and any(ANY_WORDS in pattern for pattern in patterns):
        raise body.where("options").error(f"{line}: a command with options cannot match '{ANY_WORDS}'")
    given = {name for _, v in texts.items() if v.startswith("$") for name in [v[1:]]}
    by_option = {o.value for o in options if o.value is not None}
    for pattern, where in zip(patterns, [body.where("line")] + [body.where("match")] * (len(patterns) - 1)):
        named = {m.group(1) for word in pattern for m in _PLACEHOLDER.finditer(word)}
        for name in named - set(kinds):
            raise where.error(f"{line}: ${name} is no parameter's value in args", f"${name}")
        for name in (given - by_option) - named:
            raise where.error(f"{line}: '{' '.join(pattern)}' does not say ${name}", " ".join(pattern))
    return CommandForm(line, tuple(patterns), action, tuple(texts.items()), tuple(options),
                       tuple(sorted(kinds.items())), w)


def _options(body, params, line, kinds) -> list:
    raw = body.get("options", LDict())
    if not isinstance(raw, LDict):
        raise body.where("options").error(f"{line}: options: expected a mapping of option: {{parameter: value}}")
    out = []
    for text, sets in raw.items():
        ow = raw.where(text)
        words = str(text).split()
        if not words or not words[0].startswith("-") or len(words) > 2 or \
                (len(words) == 2 and not _PLACEHOLDER.fullmatch(words[1])):
            raise ow.error(f"{line}: option '{text}': expected --flag or --flag $VALUE", str(text))
        value = words[1][1:] if len(words) == 2 else None
        if not isinstance(sets, LDict):
            raise ow.error(f"{line}: option {text}: expected a mapping of parameter: value", str(text))
        done = []
        for param, v in sets.items():
            if param not in params:
                raise sets.where(param).error(f"{line}: option {text}: no parameter '{param}'", str(param))
            shown = _arg(params[param], v, sets.where(param), line, kinds)
            if shown.startswith("$") and shown[1:] != value:
                raise sets.where(param).error(f"{line}: option {text} does not take {shown}", shown)
            done.append((str(param), shown))
        if value is not None and not any(v == f"${value}" for _, v in done):
            raise ow.error(f"{line}: option {text}: no parameter takes ${value}", str(text))
        if any(o.flag == words[0] for o in out):
            raise ow.error(f"{line}: option {words[0]} twice", words[0])
        out.append(CommandOption(words[0], value, tuple(done)))
    return out


def _arg(param, value, w, line, kinds) -> str:
    """A parameter's value in args or an option: its text, or a placeholder ($N) typed by it."""
    if isinstance(value, str) and _PLACEHOLDER.fullmatch(value):
        kind = "instance" if param.is_instance else "int" if isinstance(param.type, IntT) else "word"
        name = value[1:]
        if kinds.get(name, kind) != kind:
            raise w.error(f"{line}: {value} stands for values of two kinds", value)
        kinds[name] = kind
        return value
    if param.is_instance:
        raise w.error(f"{line}: {param.name} names an instance ({param.type}); a command line names it with a "
                      "placeholder such as $PF", param.name)
    return value_text(param, value, w, line)


def value_text(param, value, w, line) -> str:
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


def _word(pattern: str, word: str, program: bool) -> bool:
    """A glob, or the program by its file name, matches the file name of a word with a path
    (/usr/src/.../sign-file, ./enflame-1.0.run); any other word matches itself."""
    glob = any(c in pattern for c in "*?[")
    subject = word.rsplit("/", 1)[-1] if (glob or program) and "/" not in pattern else word
    return fnmatch.fnmatchcase(subject, pattern) if glob else subject == pattern
