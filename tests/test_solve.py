"""The configuration solver (issue 4, item 1): set-ups judged with the requirement IDs of a
minimal unsat core, goals answered with the commands a user types, every valid
configuration listed, and the guide's invalid combinations refused."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from gcu_model.shell.commands import CommandError, parse, render
from gcu_model.solve import queries
from gcu_model.solve.space import combinations, system_for

S88000, S88800 = "EFB-0088000-00", "EFB-0088800-00"
VGCU4 = "echo 'options enflame \"vgcu_num=4\"' > /etc/modprobe.d/gcu_test.conf"


def hosts(answers):
    return {(a.facts["product"], a.facts["part_number"]): a for a in answers}


@pytest.mark.reqs("PROD-7", "PROD-3", "INST-2", "INST-3", "PROD-2", "INST-4", "INST-1")
@pytest.mark.parametrize("setup, fixed, reqs", [
    ("sudo ./enflame-x.run --with-vgcu", {"product": "S60"}, ["PROD-7"]),
    ("sudo ./enflame-x.run --mdev-host", {"product": "S60", "part_number": S88000}, ["PROD-7"]),
    ("sudo ./enflame-x.run --virt-host", {"product": "T20"}, ["PROD-7"]),
    ("sudo ./enflame-x.run --virt-host --vf-num 2", {"product": "I20"}, ["PROD-7"]),
    ("sudo ./enflame-x.run", {"product": "S60", "part_number": S88800}, ["PROD-3"]),
    ("sudo ./enflame-x.run --virt-host --vf-num 4", {"product": "S60", "part_number": S88800}, ["INST-2", "PROD-3"]),
    ("sudo ./enflame-x.run --virt-host --vf-num 3", {"product": "S60", "part_number": S88000}, ["INST-2", "PROD-3"]),
    ("sudo ./enflame-x.run --vf-num 2", {"product": "T20"}, ["INST-2"]),
    ("sudo ./enflame-x.run", {"product": "T20", "platform": "emulation"}, ["INST-3"]),
    ("sudo ./enflame-x.run", {"product": "I20", "arch_64bit": False}, ["PROD-2"]),
    ("sudo ./enflame-x.run", {"product": "I20", "above_4g_decoding": False}, ["PROD-2"]),
    ("sudo ./enflame-x.run\nsudo ./enflame_virt-x.run", {"product": "T20"}, ["INST-4"]),
    ("sudo ./enflame_virt-x.run", {"product": "I20"}, ["INST-1"]),
])
def test_invalid_setups_name_the_requirements_that_forbid_them(spec, setup, fixed, reqs):
    answers = queries.check(spec, setup, fixed)
    assert answers and all(not a.valid for a in answers)
    for a in answers:
        assert a.reason.reqs == reqs, a.as_dict()
        assert a.steps[-1]["outcome"] == "refused" or any(s["outcome"] == "refused" for s in a.steps)


def test_valid_setup_is_accepted_step_by_step(spec):
    (answer,) = queries.check(spec, f"{VGCU4}\nsudo ./enflame-x.run --with-vgcu", {"product": "I20"})
    assert answer.valid and answer.reason is None
    assert [s["outcome"] for s in answer.steps] == ["accepted", "accepted"]
    assert answer.steps[1]["action"] == "install_base(opt_mode=vgcu, opt_vf_num=0, opt_auto_load=true)"


def test_unsat_core_is_minimal_when_two_rules_forbid(spec):
    # emulation and an unsupported VF count: one of them is already enough
    (answer,) = queries.check(spec, "sudo ./enflame-x.run --virt-host --vf-num 4",
                              {"product": "S60", "part_number": S88800, "platform": "emulation"})
    assert not answer.valid and len(answer.reason.checks) == 1
    assert answer.reason.reqs in (["INST-3"], ["INST-2", "PROD-3"])


@pytest.mark.reqs("PROD-9", "PROD-8", "PROD-4")
def test_goals_print_the_guides_commands(spec):
    i20 = hosts(queries.goal(spec, "vgcu_count == 4", {"product": "I20"}))[("I20", "none")]
    assert i20.possible and i20.commands == [VGCU4, "sudo ./enflame-xxx.run --with-vgcu"]
    t20 = hosts(queries.goal(spec, "vgcu_count == 4", {"product": "T20"}))[("T20", "none")]
    assert t20.commands == ["sudo ./enflame-xxx.run --with-vgcu"]       # T20 is spatial 4 whatever vgcu_num says
    mdev = hosts(queries.goal(spec, "mdev_count == 2", {"product": "I20"}))[("I20", "none")]
    assert mdev.commands == ["sudo ./enflame-xxx.run --mdev-host", "sudo ./enflame_virt-xxx.run"]
    vfs = hosts(queries.goal(spec, "l3_per_vf_mb == 11776", {"product": "S60"}))
    assert vfs[("S60", S88000)].commands == ["sudo ./enflame-xxx.run --virt-host --vf-num 4"]
    assert not vfs[("S60", S88800)].possible


def test_impossible_goals_say_why(spec):
    s60 = queries.goal(spec, "vgcu_count == 4", {"product": "S60"})
    assert s60 and all(not a.possible for a in s60)
    assert all("vgcu_count" in a.reason.note and "PROD-9" in a.reason.note for a in s60)
    (t20,) = queries.goal(spec, "host.kmd == 'loaded' and host.mode == 'virt_host'", {"product": "T20"})
    assert not t20.possible and t20.reason.reqs == ["PROD-7"]
    (stale,) = queries.goal(spec, "host.virtpkg == 'installed' and host.mode == 'asic'", {"product": "I20"})
    assert not stale.possible and set(stale.reason.reqs) >= {"INST-4"}


def test_goal_is_a_shortest_setup(spec):
    (answer,) = queries.goal(spec, "host.kmd == 'loaded' and host.reset_enable == 'zero'", {"product": "T20"})
    assert answer.commands == ["echo 'options enflame \"reset_enable=0\"' >> /etc/modprobe.d/gcu.conf",
                               "sudo ./enflame-xxx.run"]
    (already,) = queries.goal(spec, "host.kmd == 'absent'", {"product": "T20"})
    assert already.possible and already.commands == []


@pytest.fixture(scope="module")
def everything(spec):
    return queries.all_configs(spec, {})


def _key(v):
    return (v["facts"]["product"], v["facts"]["part_number"], v["mode"], v["numvfs"], v["vgcu_num"])


def test_embedded_configurations_are_among_the_valid_ones(spec, everything):
    keys = {_key(v) for v in everything["valid"]}
    expected = {
        "s60-asic": ("S60", S88000, "asic", 0, None),
        "s60-sriov-1vf": ("S60", S88000, "virt_host", 1, None),
        "s60-sriov-2vf": ("S60", S88000, "virt_host", 2, None),
        "s60-sriov-4vf": ("S60", S88000, "virt_host", 4, None),
        "s60-pn0088800": ("S60", S88800, "virt_host", 2, None),
        "i20-vgcu-spatial": ("I20", "none", "vgcu", 0, "two"),
        "i20-vgcu-time": ("I20", "none", "vgcu", 0, "four"),
        "t20-mdev": ("T20", "none", "mdev_host", 0, None),
        "i20-mdev": ("I20", "none", "mdev_host", 0, None),
        "t20-vgcu": ("T20", "none", "vgcu", 0, "unset"),
        "t20-asic": ("T20", "none", "asic", 0, None),
        "i20-asic": ("I20", "none", "asic", 0, None),
    }
    assert set(expected) <= set(spec.configs)
    for name, key in expected.items():
        assert key in keys, name
    # and every embedded configuration's host facts admit a valid set-up, card by card (a
    # host may mix products; the solver's hosts have one card)
    host_facts = {tuple(sorted((k, str(v)) for k, v in v["facts"].items())) for v in everything["valid"]}
    for config in spec.configs.values():
        for card in range(config.values["cards"]):
            facts = {f: config.value_of(f, card) if spec.constants[f].per else config.values[f]
                     for f in spec.solver.facts}
            assert tuple(sorted((k, str(v)) for k, v in facts.items())) in host_facts, (config.name, card)


def test_the_guides_invalid_combinations_are_not_valid(everything):
    keys = {_key(v)[:3] for v in everything["valid"]}
    for bad in [("T20", "none", "virt_host"), ("I20", "none", "virt_host"), ("S60", S88000, "vgcu"),
                ("S60", S88000, "mdev_host"), ("S60", S88800, "asic"), ("S60", S88800, "vgcu")]:
        assert bad not in keys, bad
    counts = {(v["facts"]["part_number"], v["numvfs"]) for v in everything["valid"] if v["mode"] == "virt_host"}
    assert counts == {(S88000, 1), (S88000, 2), (S88000, 4), (S88800, 2)}     # PROD-3
    assert all(v["facts"]["platform"] == "asic" and v["facts"]["arch_64bit"] and v["facts"]["above_4g_decoding"]
               for v in everything["valid"])
    reasons = {(i["facts"]["platform"], i["facts"]["arch_64bit"]): i["forbidden_by"]["reqs"] for i in everything["invalid"]}
    assert reasons[("emulation", True)] == ["INST-3"] and reasons[("asic", False)] == ["PROD-2"]


def test_quantities_of_valid_configurations_follow_the_product_rules(everything):
    for v in everything["valid"]:
        product = v["facts"]["product"]
        if v["mode"] == "mdev_host":
            assert v["mdevs"] == {"T20": 4, "I20": 2}[product]                 # PROD-8
        if v["mode"] == "vgcu":
            want = 4 if product == "T20" or v["vgcu_num"] == "four" else 2     # PROD-9
            assert v["vgcu_nodes"] == want
        if v["numvfs"]:
            assert v["l3_per_vf_mb"] == (49152 - 2048) // v["numvfs"]           # PROD-4


def test_every_setup_action_renders_as_a_command_and_parses_back(spec):
    for facts in combinations(spec, {}):
        system = system_for(spec, facts)
        for ga in system.actions:
            if ga.decl.name in spec.solver.setup_actions:
                text = str(ga.action)
                assert parse(render(text, spec), spec).action == text


@pytest.mark.parametrize("line, problem", [
    ("sudo ./enflame-x.run --bogus", "unknown option --bogus"),
    ("sudo ./enflame-x.run --with-vgcu --mdev-host", "exclude each other"),
    ("sudo ./enflame-x.run --virt-host --vf-num", "--vf-num needs a number"),
    ("echo 'options enflame \"vgcu_num=3\"' > /etc/modprobe.d/gcu_test.conf", "the guide's values are 2 and 4"),
    ("echo 2 > /sys/bus/pci/devices/0000:00:00.0/sriov_numvfs", "not the PCI address of a GCU card"),
    ("modprobe nvidia", "modprobe"),
    ("ls /dev", "unknown command"),
    # the words constants.yaml `bits: reset_enable: masks` gives, nothing else (PARAM-4)
    ("echo 'options enflame \"reset_enable=5\"' >> /etc/modprobe.d/gcu.conf", "the model knows 0xffffffff and 0"),
    # base 0 as the kernel reads it: 08 is no octal number, not a traceback
    ("echo 'options enflame \"reset_enable=08\"' >> /etc/modprobe.d/gcu.conf", "reset_enable=08: the model knows"),
    ("echo 'options enflame \"irq_poll_interval=ten\"' >> /etc/modprobe.d/gcu.conf", "irq_poll_interval=ten: expected a number"),
    ("echo 'options enflame \"vgcu_num=4\"' > /etc/modprobe.d/gcu.conf", "vgcu_num goes to /etc/modprobe.d/gcu_test.conf"),
    ("sudo rm -f /etc/qemu-quirks/enflame/0000:00:00.0.conf", "not the PCI address of a GCU card"),
])
def test_bad_command_lines_are_told_apart(spec, line, problem):
    with pytest.raises(CommandError, match=problem.replace("(", r"\(")):
        parse(line, spec)


def _run(*args):
    result = subprocess.run([sys.executable, "-m", "gcu_model", "solve", *args], capture_output=True, text=True,
                            timeout=300)
    assert "Traceback" not in result.stdout + result.stderr, result.stderr
    return result


def test_solve_cli(tmp_path):
    bad = _run("--check", "sudo ./enflame-x.run --with-vgcu", "--product", "S60", "--json")
    assert bad.returncode == 1
    data = json.loads(bad.stdout)
    assert data["query"] == "check" and not data["ok"]
    assert {h["forbidden_by"]["reqs"][0] for h in data["hosts"]} == {"PROD-7"}
    setup = tmp_path / "setup.sh"
    setup.write_text(f"# time-sliced vgcu\n{VGCU4}\nsudo ./enflame-x.run --with-vgcu\n", encoding="utf-8")
    good = _run("--check", f"@{setup}", "--product", "I20")
    assert good.returncode == 0 and "valid" in good.stdout
    goal = _run("--goal", "vgcu_count == 4", "--product", "I20")
    assert goal.returncode == 0 and VGCU4 in goal.stdout and "--with-vgcu" in goal.stdout
    assert _run("--goal", "vgcu_count == 4", "--product", "S60").returncode == 1
    for args, message in [(["--goal", "x", "--all"], "exactly one"), (["--all", "--product", "T30"], "T30"),
                          (["--all", "--fact", "colour=red"], "unknown fact"), (["--goal", "nonsense =="], "goal"),
                          (["--check", "@/nonexistent/setup"], "cannot read")]:
        result = _run(*args)
        assert result.returncode == 2 and message in result.stderr, (args, result.stderr)


def test_setup_text_is_split_as_a_shell_splits_it(spec):
    text = ("# reset disabled from the first load\n"
            "echo 'options enflame \"reset_enable=0\"' >> /etc/modprobe.d/gcu.conf ; sudo ./enflame-x.run  # then go\n")
    (answer,) = queries.check(spec, text, {"product": "T20"})
    assert answer.valid and [s["action"] for s in answer.steps] == [
        "write_option(file=gcu_conf, value=zero)", "install_base(opt_mode=asic, opt_vf_num=0, opt_auto_load=true)"]
    for bad, message in [("lsmod | grep enflame", "no pipes"), ("echo 'open", "line 1")]:
        with pytest.raises(queries.QueryError, match=message):
            queries.check(spec, bad, {"product": "T20"})
