"""Reading conformance suites (the files `gcu-model suite generate` writes), checked so
that a hand-edited or truncated file gets an error naming the file and the place.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from .generate import FORMAT


class SuiteError(Exception):
    """A suite file that cannot be read, or is not a suite."""


@dataclass
class Step:
    action: str
    expect: dict            # {"accepted": True, "transition": ...} or {"accepted": False, "errno": ...}
    reqs: list
    changes: dict
    command: str | None = None   # the guide's command line that is this action (conform/by_hand.py)
    within: bool = False         # done inside the previous step's command (a line that waits, by_hand.py)


@dataclass
class Case:
    id: str
    config: str
    choose: dict            # the initial state: variable label -> value
    start: dict             # the full observation before the first step
    made_for: str
    reqs: list
    steps: list

    def observations(self):
        """The expected observation after each step (the start updated by each step's changes)."""
        now = dict(self.start)
        for step in self.steps:
            for k, v in step.changes.items():
                if v is None:
                    now.pop(k, None)
                else:
                    now[k] = v
            yield dict(now)


@dataclass
class Suite:
    path: Path
    config: str
    digest: str
    coverage: dict
    cases: list


def suite_files(paths) -> list:
    """Files named, and the *.json files of directories named, in a stable order."""
    out = []
    for p in map(Path, paths):
        if p.is_dir():
            out.extend(sorted(p.glob("*.json")))
        elif p.is_file():
            out.append(p)
        else:
            raise SuiteError(f"{p}: no such suite file or directory")
    if not out:
        raise SuiteError(f"no suite files in {', '.join(map(str, paths))} (write them with: gcu-model suite generate)")
    return out


def load_suite(path: Path) -> Suite:
    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise SuiteError(f"{path}: {exc.strerror}") from None
    except json.JSONDecodeError as exc:
        raise SuiteError(f"{path}: line {exc.lineno}, column {exc.colno}: not JSON ({exc.msg})") from None
    where = str(path)
    _need(doc, dict, where, "the file")
    if doc.get("format") != FORMAT:
        raise SuiteError(f"{where}: format {doc.get('format')!r}; this gcu-model reads format {FORMAT}")
    for key in ("config", "initial_states", "cases", "coverage"):
        if key not in doc:
            raise SuiteError(f"{where}: no '{key}'")
    config = doc["config"]
    starts = doc["initial_states"]
    _need(starts, list, where, "initial_states")
    cases = []
    for n, c in enumerate(doc["cases"]):
        at = f"{where}: case {n + 1}"
        _need(c, dict, at, "a case")
        for key in ("id", "initial", "steps"):
            if key not in c:
                raise SuiteError(f"{at}: no '{key}'")
        if not isinstance(c["initial"], int) or not 0 <= c["initial"] < len(starts):
            raise SuiteError(f"{at} ({c['id']}): initial {c['initial']!r} is not an index of initial_states")
        start = starts[c["initial"]]
        steps = []
        for m, s in enumerate(c["steps"]):
            sat = f"{at} ({c['id']}) step {m + 1}"
            _need(s, dict, sat, "a step")
            if not isinstance(s.get("action"), str) or not isinstance(s.get("expect"), dict) \
                    or not isinstance(s["expect"].get("accepted"), bool):
                raise SuiteError(f"{sat}: a step needs 'action' (text) and 'expect' with 'accepted'")
            if not s["expect"]["accepted"] and not isinstance(s["expect"].get("errno"), str):
                raise SuiteError(f"{sat}: a refused step needs the errno it expects")
            command = s.get("command")
            if command is not None and not isinstance(command, str):
                raise SuiteError(f"{sat}: 'command' must be a command line (text)")
            within = s.get("within", False)
            if not isinstance(within, bool):
                raise SuiteError(f"{sat}: 'within' must be true or false")
            if within and (command is not None or not steps or not (steps[-1].command or steps[-1].within)
                           or not steps[-1].expect["accepted"]):
                raise SuiteError(f"{sat}: 'within' is true only for a step with no command of its own, right "
                                 "after an accepted step with a command (or another within one)")
            steps.append(Step(s["action"], s["expect"], list(s.get("reqs", [])), dict(s.get("changes", {})),
                              command, within))
        cases.append(Case(c["id"], config, dict(start.get("choose", {})), dict(start.get("observe", {})),
                          c.get("made_for", ""), list(c.get("reqs", [])), steps))
    return Suite(Path(path), config, doc.get("spec_digest", ""), doc["coverage"], cases)


def _need(value, kind, where, what):
    if not isinstance(value, kind):
        raise SuiteError(f"{where}: {what} must be a JSON {'object' if kind is dict else 'array'}")
