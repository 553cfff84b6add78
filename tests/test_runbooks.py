"""Runbooks (issue 7): the guide's sequences under docs/examples play as the guide says,
the planted wrong ones are caught at their line with the requirement that forbids them
and a fix that works; run, lint, plan, shell and trace behave on good and bad input."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from gcu_model.runbook.lint import lint
from gcu_model.runbook.parse import RunbookError, parse_runbook, read_runbook
from gcu_model.runbook.play import Player

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "docs" / "examples"
GUIDE = sorted(p.name for p in EXAMPLES.glob("s*.sh"))
WRONG = sorted(p.name for p in EXAMPLES.glob("wrong-*.sh"))


def cli(*args, stdin=None):
    return subprocess.run([sys.executable, "-m", "gcu_model", *map(str, args)], capture_output=True, text=True,
                          cwd=ROOT, input=stdin, timeout=300)


def test_every_guide_section_has_a_runbook():
    sections = {name.split("-")[0] for name in GUIDE}
    assert sections >= {"s3", "s5", "s6", "s8", "s9", "s10", "s11"}
    assert {"s8-7-standby.sh", "s8-8-power-stock.sh", "s8-9-runtime-pm.sh", "s9-4-vf-management.sh",
            "s9-5-vf-on-host-docker-kvm.sh", "s11-2-reset-methods.sh", "s11-3-reset-enable.sh"} <= set(GUIDE)


@pytest.mark.parametrize("name", GUIDE)
def test_guide_runbooks_play_as_the_guide_says(spec, name):
    runbook = read_runbook(EXAMPLES / name)
    verdicts = lint(spec, runbook.lines, runbook.config, with_fix=False)
    for v in verdicts:
        assert v.meets_expectation, (name, v.as_dict())
        if v.expected is None:
            assert v.verdict == "legal", (name, v.as_dict())


def test_guide_runbooks_say_what_the_guide_shows(spec):
    """A few outputs the guide's sections lead to."""
    def outputs(name):
        runbook = read_runbook(EXAMPLES / name)
        player = Player(spec, runbook.config)
        return [player.play(line) for line in runbook.lines]
    s5 = outputs("s5-module-parameters.sh")
    assert [p.stdout for p in s5[-2:]] == ["0\n", "0\n"]            # enable_sip_timeout..., reset_enable
    s89 = outputs("s8-9-runtime-pm.sh")
    assert s89[4].stdout == "suspended\n"                            # after the idle delay
    assert s89[6].stdout == "1\n" and s89[9].stdout == "1\n"          # usage_count, wakeup_count
    s113 = outputs("s11-3-reset-enable.sh")
    assert s113[1].stdout == "0xffffffff\n"


@pytest.mark.parametrize("name", WRONG)
def test_planted_wrong_runbooks_are_caught_with_a_fix(spec, name):
    runbook = read_runbook(EXAMPLES / name)
    verdicts = lint(spec, runbook.lines, runbook.config)
    refused = [v for v in verdicts if v.verdict == "refused"]
    assert len(refused) == 1 and refused[0].expected and refused[0].meets_expectation, [v.as_dict() for v in verdicts]
    wrong = refused[0]
    assert wrong.reqs and wrong.sections
    k = next(i for i, line in enumerate(runbook.lines) if line.number == wrong.number)
    if wrong.fix is None:
        assert "RST-4" in wrong.reqs                                      # a VF is never hot reset in a VM
        assert wrong.fix_note == f"never allowed in {runbook.config}: the spec refuses it in every state"
        return
    assert wrong.fix
    # the fix works: the lines before, then the fix, then the refused line, all legal
    player = Player(spec, runbook.config)
    for line in runbook.lines[:k] + parse_runbook("\n".join(wrong.fix)).lines + [runbook.lines[k]]:
        played = player.play(line)
        assert played.verdict == "legal", (line.text, played)


def test_planted_fixes_are_the_ones_an_operator_expects(spec):
    def fix(name):
        runbook = read_runbook(EXAMPLES / name)
        return next(v for v in lint(spec, runbook.lines, runbook.config) if v.verdict == "refused").fix
    assert fix("wrong-vfs-deleted-under-load.sh") == ["kill %1"]
    assert fix("wrong-rmmod-before-vm-exit.sh")[0] == "[guest] poweroff"      # the name qemu -name gave it
    assert fix("wrong-pf-passed-through.sh") == ["sudo ./enflame-xxx.run"]    # installed again in ASIC mode (§3)


def test_run_prints_a_terminal_session():
    r = cli("run", EXAMPLES / "s10-2-module-in-use.sh")
    assert r.returncode == 1                                           # a refused line
    assert "$ sudo rmmod enflame\nrmmod: ERROR: Module enflame is in use by: enflame_peermem\n" in r.stdout
    r = cli("run", EXAMPLES / "s6-unload.sh")
    assert r.returncode == 0 and r.stdout.startswith("$ sudo ./enflame-xxx.run\n")


def test_lint_cli_text_and_json():
    r = cli("lint", EXAMPLES / "wrong-vfs-deleted-under-load.sh")
    assert r.returncode == 1
    assert "wrong-vfs-deleted-under-load.sh:6: REFUSED" in r.stdout and "SRIOV-6" in r.stdout
    assert "fix: first run\n        kill %1" in r.stdout
    r = cli("lint", EXAMPLES / "wrong-vfs-deleted-under-load.sh", "--json")
    doc = json.loads(r.stdout)
    line = next(x for x in doc["lines"] if x["verdict"] == "refused")
    assert line["line"] == 6 and line["errno"] == "EBUSY" and line["fix"] == ["kill %1"]
    assert doc["ok"] is False and doc["expectations_met"] is True
    r = cli("lint", EXAMPLES / "s8-7-standby.sh", "--no-fix")
    assert r.returncode == 1 and "STBY-1" in r.stdout                 # its one refusal is expected, but still one


def test_bad_runbooks_are_reported_by_line(tmp_path):
    bad = tmp_path / "bad.sh"
    bad.write_text("# @config t20-asic\nsudo ./enflame-xxx.run\nfrobnicate --now\n")
    r = cli("lint", bad)
    assert r.returncode == 2 and f"{bad}:3: ERROR: frobnicate --now" in r.stdout and "command not found" in r.stdout
    bad.write_text("# @config t20-asic\n# @wait soon\n")
    r = cli("lint", bad)
    assert r.returncode == 2 and f"{bad}:2:" in r.stderr and "whole number" in r.stderr and "Traceback" not in r.stderr
    bad.write_text("sudo ./enflame-xxx.run\n")
    r = cli("lint", bad)
    assert r.returncode == 2 and "say which configuration" in r.stderr
    r = cli("lint", bad, "--config", "t30-asic")
    assert r.returncode == 2 and "unknown configuration 't30-asic'" in r.stderr
    with pytest.raises(RunbookError, match=r"<runbook>:1: unknown annotation '@frob'"):
        parse_runbook("# @frob 1")
    with pytest.raises(RunbookError, match="must follow the line"):
        parse_runbook("# @expect accepted")


def test_plan_gives_the_shortest_legal_sequence():
    r = cli("plan", "--from", EXAMPLES / "wrong-vfs-deleted-under-load.sh",
            "--goal", "echo 0 > /sys/bus/pci/devices/0000:01:00.0/sriov_numvfs")
    assert r.returncode == 0 and r.stdout == "kill %1\necho 0 > /sys/bus/pci/devices/0000:01:00.0/sriov_numvfs\n"
    r = cli("plan", "--config", "s60-sriov-2vf", "--goal", "qemu-system-x86_64 -device vfio-pci,host=0000:01:00.1")
    assert r.returncode == 0
    lines = r.stdout.splitlines()
    assert lines[0] == "sudo ./enflame-xxx.run --virt-host" and "vfio-pci/bind" in lines[1]   # 2 VFs by default
    r = cli("plan", "--config", "t20-asic", "--goal", "frobnicate")
    assert r.returncode == 2 and "stands for no action of the model" in r.stderr


def test_plan_json_and_a_goal_no_plan_reaches():
    r = cli("plan", "--from", EXAMPLES / "wrong-vfs-deleted-under-load.sh", "--json",
            "--goal", "echo 0 > /sys/bus/pci/devices/0000:01:00.0/sriov_numvfs")
    doc = json.loads(r.stdout)
    assert r.returncode == 0 and doc["ok"] and doc["plan"] == ["kill %1"] and doc["reason"] is None
    assert doc["config"] == "s60-sriov-2vf" and doc["action"] == "write_sriov_numvfs(card=card0, n=0)"
    # 3 VFs on a card with 2 slots: every state refuses it (SRIOV-1), proven by z3, not searched for
    r = cli("plan", "--config", "s60-sriov-2vf", "--json",
            "--goal", "echo 3 > /sys/bus/pci/devices/0000:01:00.0/sriov_numvfs")
    doc = json.loads(r.stdout)
    assert r.returncode == 1 and doc["ok"] is False and doc["plan"] is None
    assert doc["reason"] == "never allowed in s60-sriov-2vf: no state that keeps the invariants accepts it"


def test_never_accepted_tells_impossible_steps_from_state_dependent_ones(spec):
    from gcu_model.prove.enabled import never_accepted
    from gcu_model.reference.host import ReferenceHost
    system = ReferenceHost(spec, "s60-sriov-2vf").system
    assert never_accepted(system, "vm_efsmi_reset(vm=vm0, kind=hot)") == "the spec refuses it in every state"
    assert never_accepted(system, "vm_efsmi_reset(vm=vm0, kind=flr)") is None        # RST-4: a VM may FLR its VF
    assert never_accepted(system, "write_sriov_numvfs(card=card0, n=2)") is None
    assert never_accepted(system, "write_sriov_numvfs(card=card0, n=3)") is not None


def test_shell_session_from_a_pipe():
    r = cli("shell", "--config", "t20-asic", stdin="sudo ./enflame-xxx.run\nlsmod | grep enflame\n"
                                                     "sudo rmmod enflame_peermem\nbogus\nexit\n")
    assert r.returncode == 0
    assert "enflame: driver installed and loaded in asic mode" in r.stdout and "enflame " in r.stdout
    assert "rmmod: ERROR: Module enflame_peermem is not currently loaded" in r.stderr
    assert "bogus: command not found" in r.stderr


def test_trace_checks_a_recorded_run(tmp_path, spec):
    from gcu_model.reference.protocol import Server
    server = Server(spec)
    log = [{"op": "reset", "config": "t20-asic", "initial": {}}]
    server.handle(log[0])
    for action in ("install_base(opt_mode=asic, opt_vf_num=0, opt_auto_load=true)", "install_peermem()",
                   "modprobe_peermem()", "rmmod()", "rmmod_peermem()", "rmmod()"):
        log.append(server.handle({"op": "apply", "action": action}))
    good = tmp_path / "good.jsonl"
    good.write_text("".join(json.dumps(x) + "\n" for x in log))
    r = cli("trace", good)
    assert r.returncode == 0 and "6 steps" in r.stdout
    log[4]["outcome"] = {"accepted": True}                            # the implementation let rmmod through
    bad = tmp_path / "bad.jsonl"
    bad.write_text("".join(json.dumps(x) + "\n" for x in log))
    r = cli("trace", bad, "--json")
    doc = json.loads(r.stdout)
    assert r.returncode == 1 and doc["first_divergence"]["line"] == 5 and doc["first_divergence"]["step"] == 4
    assert "does not allow" in doc["first_divergence"]["problem"] and "UNLD-2" in doc["first_divergence"]["reqs"]
    bad.write_text('{"op": "reset", "config": "t20-asic"}\n{"action": "rmmod()", "outcome": 3}\n')
    r = cli("trace", bad)
    assert r.returncode == 2 and "bad.jsonl:2:" in r.stderr
