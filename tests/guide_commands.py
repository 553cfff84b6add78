"""The command lines of the KMD user guide (../shared/seed/), read out of its text (issue 17).

The guide is prose with commands among it: a line that starts as a command (`sudo`, `echo`,
`cat`, `efsmi`, `./...`), cut where the prose starts again (the first CJK character), split
where the page ran two commands together (`... sudo echo ...`, `A 或者 B`: "A or B"), a table
cell's `|` and a trailing `# comment` dropped. A comment line that carries a command after its
prose (§11.3) gives that command. The guide's own placeholders stay as written (`xxx`, `N`,
`[ID]`, `<进程ID>`); `played_as` fills them for a host.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

SEED = Path(__file__).resolve().parents[2] / "shared" / "seed" / "000_8ac1dd32c79e41ac.txt"

_COMMAND = re.compile(r"^(sudo |echo |cat |lsmod|modprobe|rmmod|insmod|cp |efsmi|GcuSriovMgr|docker|"
                      r"qemu-system|lspci|dmesg|ps |kill|lsof|X=|mkdir|sed |grep |ls |\./|apt|/etc/init\.d|"
                      r"update-pciids|setpci|modinfo|zcat|tail|sleep|dev=)")
_CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")
_HEADING = re.compile(r"^(\d+(?:\.\d+)*)\. \S")


@dataclass(frozen=True)
class GuideLine:
    number: int          # line of the seed file
    section: str         # "9.5"
    text: str            # the command as the guide writes it

    def __str__(self):
        return f"§{self.section} (seed line {self.number}): {self.text}"


def guide_lines(path: Path = SEED) -> list:
    out, section = [], ""
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        m = _HEADING.match(raw)
        if m and raw.rstrip().endswith("¶"):
            section = m.group(1)
            continue
        for part in re.split(r"\s+或者\s+|或(?=efsmi)", raw):
            part = part.strip().rstrip("|").strip()
            before, *comments = re.split(r"(?:^|\s)#", part)
            texts = [before] if _COMMAND.match(before) else []
            for comment in comments:                       # prose, then perhaps a command (§11.3)
                found = re.search(r"(?:^|\s)(cat|echo|dev=)", comment)
                if found is not None:
                    texts.append(comment[found.start():].strip())
            for text in texts:
                text = re.sub(r"<[^>]*>", "PID", text)     # kill -9 <进程ID>
                cut = _CJK.search(text)
                if cut:
                    text = text[:cut.start()]
                joins = r" (?=sudo )" if "{" in text else r" (?=sudo )| (?=sleep \d)| (?=echo \d+ > )"
                for piece in re.split(joins, text):         # a { ... } block is one script
                    piece = piece.strip().rstrip(";").strip()
                    for line in _synopsis(piece):
                        out.append(GuideLine(number, section, line))
    return out


def _synopsis(text: str) -> list:
    """A usage synopsis (`run [--a] [--b | --c]`, §3) stands for the command with each of its
    options; a line without one is itself. `[--slot xxx]` (an optional argument) is filled
    by the player instead."""
    groups = re.findall(r"\[(--[^\]]*\|[^\]]*)\]|\[(--[\w-]+)\]", text)
    if not groups or "[--slot" in text:
        return [text]
    base = re.sub(r"\s*\[--[^\]]*\]", "", text).strip()
    flags = [f.strip() for alternatives, single in groups for f in (alternatives or single).split("|")]
    return [base] + [f"{base} {flag}" for flag in flags]
