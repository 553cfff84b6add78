"""Running conformance cases against a target (issue 6, item 2).

A case resets the target to its configuration and initial state, then applies its actions
one by one. After each, the outcome (accepted, or refused with which errno) must be the
expected one, and the target's observation must show every expected value. The first
step that differs ends the case as failed; the result keeps it, expected and observed side
by side, and the prefix that replays it. A target that crashes, hangs or answers garbage
fails the case at that step and is restarted for the next one.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

from ..adapters.targets import TargetError
from .observe import Observer, differences, outcome_of


@dataclass
class Divergence:
    step: int                   # 1-based; 0 for the reset
    action: str
    expected: dict              # outcome, or observation values
    observed: dict
    what: str                   # "outcome", "observation", "target" (crash/hang/garbage), "reset"
    message: str = ""


@dataclass
class CaseResult:
    case_id: str
    config: str
    passed: bool
    steps: int                  # steps run
    seconds: float
    reqs: list
    made_for: str = ""
    divergence: Divergence | None = None
    prefix: list = field(default_factory=list)      # actions up to and including the diverging one
    choose: dict = field(default_factory=dict)
    observed: bool = True       # the target answered `observe`

    def as_dict(self) -> dict:
        d = {"id": self.case_id, "config": self.config, "passed": self.passed, "steps": self.steps,
             "seconds": round(self.seconds, 4), "reqs": self.reqs, "observations_compared": self.observed}
        if self.divergence is not None:
            v = self.divergence
            d["failure"] = {"step": v.step, "action": v.action, "what": v.what, "message": v.message,
                            "expected": v.expected, "observed": v.observed,
                            "replay": {"config": self.config, "initial": self.choose, "actions": self.prefix}}
        return d


VIA = ("apply", "surface")


class Runner:
    """Runs cases on one target; remembers whether and how the target can be observed.
    `model`: compare the model's own labels too (in-house targets only). `via`: `apply`
    sends each step's action; `surface` sends the step's command where it has one
    (surface.py: a sysfs write, a shell line), `apply` for the others."""

    def __init__(self, target, model: bool = False, via: str = "apply"):
        if via not in VIA:
            raise ValueError(f"via: one of {', '.join(VIA)}, not {via!r}")
        self.target = target
        self.model = model
        self.via = via
        self.observer = Observer(target, model)
        self.by_surface = 0             # steps sent as their command
        self.by_action = 0              # steps sent as `apply`
        self.within = 0                 # steps done inside an earlier step's command (not sent)

    @property
    def can_observe(self):
        return self.observer.available

    @property
    def observe_note(self) -> str:
        return self.observer.note

    def _request(self, req):
        return self.target.request(req)

    def run_case(self, case) -> CaseResult:
        start = time.perf_counter()
        result = CaseResult(case.id, case.config, True, 0, 0.0, case.reqs, case.made_for, choose=case.choose)
        try:
            self._run(case, result)
        except TargetError as exc:
            step = result.steps
            action = case.steps[step - 1].action if 0 < step <= len(case.steps) else "(reset)"
            result.passed = False
            result.divergence = Divergence(step, action, {}, {}, "target", str(exc))
            result.prefix = [s.action for s in case.steps[:step]]
            self.target.restart()
        result.seconds = time.perf_counter() - start
        result.observed = bool(self.can_observe)
        return result

    def _run(self, case, result):
        reply = self._request({"op": "reset", "config": case.config, "initial": case.choose})
        if not reply.get("ok"):
            result.passed = False
            result.divergence = Divergence(0, "(reset)", {"config": case.config, "initial": case.choose}, {},
                                           "reset", reply.get("error", "refused"))
            return
        steps = case.steps
        line = None                                    # the last command sent, for a `within` step
        for n, (step, expected_obs) in enumerate(zip(steps, case.observations()), 1):
            result.steps = n
            want = {k: v for k, v in step.expect.items() if k in ("accepted", "errno")}
            by_line = self.via == "surface"
            inside_next = by_line and n < len(steps) and steps[n].within      # the line goes on doing it
            if by_line and step.within:
                if line is None:
                    raise TargetError(f"{case.id} step {n}: 'within' with no command before it")
                self.within += 1                       # done inside the earlier step's command line
                got, message = want, ""
            elif by_line and step.command:
                self.by_surface += 1
                line = step.command
                got, message = send_command(self.target, step.command)
                if "errno" not in got:                 # a command line: its exit status alone says
                    want = {"accepted": want["accepted"]}
            else:
                self.by_action += 1
                reply = self._request({"op": "apply", "action": step.action})
                if not reply.get("ok"):
                    raise TargetError(f"apply {step.action}: {reply.get('error', 'not ok')}")
                got, message = outcome_of(reply.get("outcome") or {}), (reply.get("outcome") or {}).get("message", "")
            if got != want:
                sent = f"$ {step.command}: " if self.via == "surface" and step.command else ""
                self._fail(result, case, n, "outcome", want, got, sent + message)
                return
            if inside_next:
                continue                               # seen when the line has done its last step
            observed = self.observer.observe()
            if observed is None:
                continue
            diff = differences(expected_obs, observed, self.model)
            if diff:
                self._fail(result, case, n, "observation", {k: e for k, (e, _) in sorted(diff.items())},
                           {k: o for k, (_, o) in sorted(diff.items())},
                           f"after $ {line} (this step ran inside that line)" if by_line and step.within else "")
                return

    @staticmethod
    def _fail(result, case, n, what, expected, observed, message=""):
        result.passed = False
        result.divergence = Divergence(n, case.steps[n - 1].action, expected, observed, what, message)
        result.prefix = [s.action for s in case.steps[:n]]


def send_command(target, command: str) -> tuple:
    """A step's command through the target's surface: `echo TEXT > /sys/...` as a `write`
    (its errno compared), any other line as a `run` (exit status 0 is accepted).
    -> (outcome {"accepted", ["errno"]}, message)."""
    import re
    import shlex
    try:
        words = shlex.split(command)
    except ValueError:
        words = []
    while words[:1] == ["sudo"]:
        words = words[1:]
    if len(words) == 4 and words[0] == "echo" and words[2] == ">" and words[3].startswith("/sys/") \
            and not re.search(r"[;&|$`]", command):
        reply = target.request({"op": "write", "path": words[3], "text": words[1] + "\n"})
        if not reply.get("ok") or not isinstance(reply.get("result"), dict):
            raise TargetError(f"write {words[3]}: {reply.get('error', 'no result')}")
        r = reply["result"]
        return ({"accepted": True} if r.get("accepted") else {"accepted": False, "errno": r.get("errno")},
                r.get("message", ""))
    reply = target.request({"op": "run", "command": command})
    if not reply.get("ok") or not isinstance(reply.get("status"), int):
        raise TargetError(f"run {command}: {reply.get('error', 'no exit status')}")
    return {"accepted": reply["status"] == 0}, (reply.get("stderr") or "").strip()


def requirement_table(results) -> dict:
    """requirement ID -> {"cases": n, "passed": n, "failed": n}."""
    table: dict = {}
    for r in results:
        for req in r.reqs:
            row = table.setdefault(req, {"cases": 0, "passed": 0, "failed": 0})
            row["cases"] += 1
            row["passed" if r.passed else "failed"] += 1
    return dict(sorted(table.items(), key=lambda kv: _req_key(kv[0])))


def _req_key(req):
    head, _, num = req.rpartition("-")
    return (head, int(num)) if num.isdigit() else (req, 0)


def junit_xml(results, target_name: str) -> str:
    """JUnit XML: a testsuite per configuration, a testcase per case."""
    import xml.etree.ElementTree as ET
    root = ET.Element("testsuites", name=f"gcu-model conform {target_name}")
    by_config: dict = {}
    for r in results:
        by_config.setdefault(r.config, []).append(r)
    for config, rs in by_config.items():
        suite = ET.SubElement(root, "testsuite", name=config, tests=str(len(rs)),
                              failures=str(sum(not r.passed for r in rs)),
                              time=f"{sum(r.seconds for r in rs):.3f}")
        for r in rs:
            tc = ET.SubElement(suite, "testcase", classname=config, name=r.case_id, time=f"{r.seconds:.4f}")
            if not r.passed:
                v = r.divergence
                fail = ET.SubElement(tc, "failure", message=f"step {v.step} {v.action}: {v.what} differs",
                                     type=v.what)
                fail.text = describe_failure(r)
    return ET.tostring(root, encoding="unicode")


def describe_failure(r) -> str:
    """Plain text: the diverging step, expected and observed side by side, the replay."""
    v = r.divergence
    lines = [f"{r.case_id}: step {v.step} {v.action}: the {v.what} differs" + (f" ({v.message})" if v.message else "")]
    keys = sorted(set(v.expected) | set(v.observed))
    if keys:
        width = max(len(k) for k in keys)
        lines.append(f"  {'':{width}}  {'expected':<24} observed")
        for k in keys:
            lines.append(f"  {k:{width}}  {_show(v.expected.get(k, '-')):<24} {_show(v.observed.get(k, '-'))}")
    lines.append(f"  replay on {r.config}" + (f" from {_show(r.choose)}" if r.choose else "") + ":")
    lines.extend(f"    {n}. {a}" for n, a in enumerate(r.prefix, 1))
    return "\n".join(lines)


def _show(v) -> str:
    import json
    return v if isinstance(v, str) else json.dumps(v)
