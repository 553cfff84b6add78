"""Targets (issue 5): one scenario gives the same observations through reference,
python:, exec: and sysfs: (on the FUSE mount); a target that crashes, hangs or answers
garbage is a clear failure, not an exception of ours."""
from __future__ import annotations

import sys
import time

import pytest

from conftest import fuse_mount
from gcu_model.adapters.targets import TargetError, UsageError, open_target

SCENARIO = [
    {"op": "reset", "config": "t20-reset"},
    {"op": "run", "command": "sudo ./enflame-xxx.run"},
    {"op": "read", "path": "/sys/bus/pci/drivers/enflame/reset_enable"},
    {"op": "write", "path": "/sys/bus/pci/drivers/enflame/reset_enable", "text": "0\n"},
    {"op": "write", "path": "/sys/class/enflame/gcu0/device/gcu_reload", "text": "1\n"},
    {"op": "write", "path": "/sys/bus/pci/drivers/enflame/reset_enable", "text": "banana\n"},
    {"op": "read", "path": "/sys/module/enflame/parameters/reset_enable"},
    {"op": "list", "path": "/sys/bus/pci/devices"},
    {"op": "read", "path": "/sys/module/enflame/nothing"},
    {"op": "run", "command": "sudo rmmod enflame"},
    {"op": "read", "path": "/sys/module/enflame/version"},
]


def observe(target):
    """What a user would see, step by step: text, entries, errno, exit status."""
    seen = []
    for req in SCENARIO:
        reply = target.request(req)
        assert reply["ok"], (target.name, req, reply)
        if "result" in reply:
            r = reply["result"]
            seen.append((req["op"], r["accepted"], r.get("text"), tuple(r.get("entries", ())), r.get("errno")))
        elif "status" in reply:
            seen.append((req["op"], reply["status"]))
        else:
            seen.append((req["op"], reply.get("config")))
    return seen


@pytest.fixture
def fuse_root(tmp_path):
    with fuse_mount(tmp_path / "host") as point:
        yield point


def test_one_scenario_same_observations_through_every_target(spec, fuse_root):
    targets = [open_target("reference", spec), open_target("python:reference_impl:make"),
               open_target(f"exec:{sys.executable} -m gcu_model serve --stdio"), open_target(f"sysfs:{fuse_root}")]
    try:
        seen = {t.name: observe(t) for t in targets}
    finally:
        for t in targets:
            t.close()
    reference = seen["reference"]
    assert ("write", False, None, (), "EPERM") in reference                   # RST-9 through every target
    assert ("write", False, None, (), "EINVAL") in reference
    assert ("read", False, None, (), "ENOENT") in reference
    for name, observations in seen.items():
        assert observations == reference, name


def test_exec_target_failures_are_named(spec):
    crash = open_target(f"exec:{sys.executable} -c 'import sys; sys.exit(3)'")
    time.sleep(0.2)
    with pytest.raises(TargetError, match="exited with status 3"):
        crash.request({"op": "hello"})
    garbage = open_target(f"exec:{sys.executable} -c 'print(\"hello there\"); import time; time.sleep(5)'")
    with pytest.raises(TargetError, match="garbage: 'hello there'"):
        garbage.request({"op": "hello"})
    garbage.close()
    hang = open_target(f"exec:{sys.executable} -c 'import time; time.sleep(60)'")
    hang.timeout = 0.5
    with pytest.raises(TargetError, match="hung"):
        hang.request({"op": "hello"})
    hang.restart()                                          # the next case gets a fresh process
    hang.close()


def test_python_target_that_raises_or_answers_nonsense(spec):
    class Broken:
        def handle(self, req):
            raise KeyError("boom")

    class Silly:
        def handle(self, req):
            return "yes"
    import types
    module = types.ModuleType("broken_impls")
    module.broken, module.silly = Broken, Silly
    sys.modules["broken_impls"] = module
    with pytest.raises(TargetError, match="raised KeyError"):
        open_target("python:broken_impls:broken").request({"op": "hello"})
    with pytest.raises(TargetError, match="not a protocol response"):
        open_target("python:broken_impls:silly").request({"op": "hello"})


@pytest.mark.parametrize("text, message", [
    ("nothing", "unknown target"), ("python:os", "python:MODULE:FACTORY"), ("python:no_such_mod:f", "cannot import"),
    ("python:os:no_such_factory", "no callable"), ("exec:", "exec:COMMAND"), ("sysfs:/no/such/root", "not a directory"),
])
def test_bad_target_descriptions(text, message):
    with pytest.raises(UsageError, match=message):
        open_target(text)


def test_sysfs_target_without_control_folder(tmp_path):
    (tmp_path / "sys" / "module" / "enflame").mkdir(parents=True)
    (tmp_path / "sys" / "module" / "enflame" / "version").write_text("1.5.0\n")
    t = open_target(f"sysfs:{tmp_path}")
    assert t.request({"op": "read", "path": "/sys/module/enflame/version"})["result"]["text"] == "1.5.0\n"
    assert t.request({"op": "read", "path": "/sys/nothing"})["result"]["errno"] == "ENOENT"
    assert not t.request({"op": "apply", "action": "rmmod()"})["ok"]
