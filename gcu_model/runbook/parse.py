"""Runbooks: the guide's own command lines, plus a few annotations (issue 7).

A runbook is a text file of shell lines as the guide writes them (`sudo`, `echo ... >
file`, `cat`, `lsmod | grep`, `rmmod`, `modprobe -C`, the run packages, `efsmi`,
`GcuSriovMgr`, `docker run`, `qemu-system-x86_64`, `./app /dev/gcu0 &`, `kill`), comments,
blank lines, lines typed inside a VM written `[vm0] COMMAND`, and annotations in comments
for what is not a shell command:

    # @ras IP DEVICE        a RAS error in IP block IP (SIP, PCIe, ...) of DEVICE (a PCI address)
    # @wait MS              MS milliseconds pass (resets end, runtime-PM idle timers fire)
    # @action ACTION        one action of the model, as the spec writes it
    # @expect accepted | refused [ERRNO] | failed | error   what the line before does (tests, docs)
    # @config NAME          the embedded configuration the runbook is for (--config overrides)

It is parsed, never executed: the reference host plays it.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path


class RunbookError(Exception):
    """A runbook line that cannot be read: says the file, the line and what is wrong."""


@dataclass
class Line:
    number: int
    text: str               # as written
    kind: str               # "command", "ras", "wait", "action"
    args: tuple = ()
    expect: tuple | None = None     # ("accepted",) or ("refused", ERRNO or None), from a following @expect


ANNOTATION = re.compile(r"#\s*@(\w+)\s*(.*)")


@dataclass
class Runbook:
    lines: list
    config: str | None = None        # from `# @config NAME`


def parse_runbook(text: str, source: str = "<runbook>") -> Runbook:
    lines: list = []
    config = None
    for number, raw in enumerate(text.splitlines(), 1):
        stripped = raw.strip()
        if not stripped:
            continue
        m = ANNOTATION.fullmatch(stripped)
        if m:
            word, rest = m.group(1), m.group(2).strip()
            where = f"{source}:{number}"
            if word == "expect":
                if not lines:
                    raise RunbookError(f"{where}: @expect must follow the line it is about")
                parts = rest.split()
                if parts[:1] in (["accepted"], ["failed"], ["error"]) and len(parts) == 1:
                    lines[-1].expect = (parts[0],)
                elif parts[:1] == ["refused"] and len(parts) <= 2:
                    lines[-1].expect = ("refused", parts[1] if len(parts) == 2 else None)
                else:
                    raise RunbookError(f"{where}: write '# @expect accepted', '# @expect refused [ERRNO]', "
                                       f"'# @expect failed' or '# @expect error', not '@expect {rest}'")
            elif word == "ras":
                parts = rest.rsplit(None, 1)
                if len(parts) != 2:
                    raise RunbookError(f"{where}: write '# @ras IP DEVICE' (e.g. '# @ras SIP 0000:01:00.1')")
                lines.append(Line(number, stripped, "ras", tuple(parts)))
            elif word == "wait":
                if not re.fullmatch(r"\d+", rest):
                    raise RunbookError(f"{where}: write '# @wait MS' with a whole number of milliseconds")
                lines.append(Line(number, stripped, "wait", (int(rest),)))
            elif word == "config":
                if not re.fullmatch(r"[\w.-]+", rest) or config is not None:
                    raise RunbookError(f"{where}: write '# @config NAME' once")
                config = rest
            elif word == "action":
                if not re.fullmatch(r"[a-z_]+\(.*\)", rest):
                    raise RunbookError(f"{where}: write '# @action NAME(param=value, ...)'")
                lines.append(Line(number, stripped, "action", (rest,)))
            else:
                raise RunbookError(f"{where}: unknown annotation '@{word}'; known: @ras, @wait, @action, @expect, "
                                   "@config")
            continue
        if stripped.startswith("#"):
            continue
        lines.append(Line(number, stripped, "command"))
    return Runbook(lines, config)


def read_runbook(path) -> Runbook:
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise RunbookError(f"{p}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise RunbookError(f"{p}: not UTF-8 text") from None
    return parse_runbook(text, str(p))
