"""Lockstep stays within the configuration, reports every distinct divergence with the
command that replays it, and a target that exposes only its surface (no `observe`, no
model variables) passes suites and lockstep."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from gcu_model.adapters.targets import InProcessTarget
from gcu_model.conform import default_suite_dir
from gcu_model.conform.lockstep import run_lockstep
from gcu_model.conform.runner import Runner
from gcu_model.conform.suite import load_suite
from gcu_model.core.system import System
from gcu_model.reference.protocol import Server
from gcu_model.core.outcome import action_name

ROOT = Path(__file__).resolve().parent.parent
VERSION = "/sys/module/enflame/version"


class Recording:
    """The reference host, recording every action it is sent; `observe` optional."""

    def __init__(self, spec, observe=True, bugs=()):
        self.server = Server(spec)
        self.actions = []
        self.observe = observe
        self.bugs = dict(bugs)          # action name -> errno it is wrongly refused with

    def handle(self, req):
        if req.get("op") == "observe" and not self.observe:
            return {"ok": False, "error": "unknown op 'observe'"}
        if req.get("op") == "apply":
            self.actions.append(req["action"])
            name = action_name(req["action"])
            if name in self.bugs:
                return {"ok": True, "outcome": {"accepted": False, "errno": self.bugs[name], "message": "bug"}}
        reply = self.server.handle(req)
        if "version" in self.bugs:               # the module's version file reads wrong
            if req.get("op") == "read" and req.get("path") == VERSION and reply["result"].get("accepted"):
                reply["result"]["text"] = "9.9.9\n"
            if VERSION in reply.get("visible", {}):
                reply["visible"][VERSION] = "9.9.9\n"
        return reply


@pytest.mark.reqs("SRIOV-7")
def test_lockstep_drives_only_the_configurations_own_actions(spec):
    impl = Recording(spec)
    result = run_lockstep(spec, "s60-sriov-2vf", InProcessTarget("recording", lambda: impl), examples=40,
                          max_steps=20)
    assert result.passed
    own = {str(ga.action) for ga in System(spec, "s60-sriov-2vf").actions}
    sent = set(impl.actions)
    assert sent and sent <= own, sorted(sent - own)[:5]
    # the reference host offers more (containers, a VF count of 3): none of it is driven
    assert not any("ctr" in a or "n=3" in a or "n=1)" in a for a in sent)


@pytest.mark.reqs("UNLD-1", "VER-1")
def test_lockstep_reports_every_distinct_divergence_and_how_to_replay_it(spec):
    impl = Recording(spec, bugs={"rmmod": "EPERM", "version": None})
    result = run_lockstep(spec, "t20-asic", InProcessTarget("buggy", lambda: impl), examples=120, max_steps=20)
    assert not result.passed
    kinds = {(f.divergence.what, action_name(f.divergence.action)) for f in result.failures}
    assert ("outcome", "rmmod") in kinds
    assert any(what == "observation" and "/sys/module/enflame/version" in f.divergence.expected
               for f in result.failures for what in [f.divergence.what])
    assert result.distinct >= 2 and len(result.failures) >= 2
    for f in result.failures:                                   # each shrunk: nothing left to drop
        assert len(f.prefix) <= 4, f.prefix


@pytest.mark.reqs("UNLD-1")
def test_a_printed_replay_command_replays(spec, tmp_path):
    r = subprocess.run([sys.executable, "-m", "gcu_model", "conform", "--target", "mutant:rmmod-ignores-peermem",
                        "--config", "t20-asic", "--explore", "200"],
                       capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert r.returncode == 1, r.stdout + r.stderr
    line = next(ln for ln in r.stdout.splitlines() if ln.strip().startswith("replay: gcu-model conform"))
    request = json.loads(line.split("--replay ", 1)[1].strip().strip("'"))
    assert request["config"] == "t20-asic" and request["actions"][-1].startswith(("rmmod()", "install_base("))
    (tmp_path / "replay.json").write_text(json.dumps(request))
    again = subprocess.run([sys.executable, "-m", "gcu_model", "conform", "--target", "mutant:rmmod-ignores-peermem",
                            "--replay", str(tmp_path / "replay.json")], capture_output=True, text=True, cwd=ROOT,
                           timeout=300)
    last = request["actions"][-1]
    assert again.returncode == 1 and last in again.stdout and "outcome differs" in again.stdout, again.stdout
    fine = subprocess.run([sys.executable, "-m", "gcu_model", "conform", "--target", "reference",
                           "--replay", str(tmp_path / "replay.json")], capture_output=True, text=True, cwd=ROOT,
                          timeout=300)
    assert fine.returncode == 0 and "agree with the reference host" in fine.stdout, fine.stdout + fine.stderr
    bad = subprocess.run([sys.executable, "-m", "gcu_model", "conform", "--target", "reference",
                          "--replay", "{\"config\": 3}"], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr and "--replay" in bad.stderr


@pytest.mark.reqs("SRIOV-1", "SRIOV-7")
def test_a_target_with_only_its_surface_passes_suites_and_lockstep(spec):
    """No `observe` at all: every step is observed by walking list/read/run, as on a host."""
    impl = Recording(spec, observe=False)
    target = InProcessTarget("surface-only", lambda: impl)
    runner = Runner(target)
    suite = load_suite(default_suite_dir() / "s60-sriov-1vf.json")
    results = [runner.run_case(c) for c in suite.cases]
    assert runner.observer.walks and runner.can_observe
    assert all(r.passed for r in results), next(r.as_dict() for r in results if not r.passed)
    assert run_lockstep(spec, "s60-sriov-1vf", target, examples=30, max_steps=15).passed


@pytest.mark.reqs("UNLD-3")
def test_a_suite_failure_is_shrunk_and_printed_with_its_replay(spec):
    r = subprocess.run([sys.executable, "-m", "gcu_model", "conform", "--target", "mutant:rmmod-with-open-device",
                        "--config", "t20-asic"], capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert r.returncode == 1
    assert "replay: gcu-model conform --target mutant:rmmod-with-open-device" in r.stdout
    assert "shrunk to " in r.stdout and " of its " in r.stdout, r.stdout[-3000:]
