"""The conformance kit (issue 6): generated suites are stable and cover every target, the
reference passes them, the runner reports the first diverging step of a wrong
implementation and survives one that crashes, hangs or answers garbage, the lockstep
property tests agree with the reference and shrink a failure, and every mutant is caught."""
from __future__ import annotations

import json
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from conftest import edit, embedded_config_names, fuse_mount
from gcu_model.adapters.targets import open_target
from gcu_model.conform import default_suite_dir, kit_dir
from gcu_model.conform.generate import generate, render
from gcu_model.conform.lockstep import run_lockstep
from gcu_model.conform.mutants import load_mutants, run_mutant
from gcu_model.conform.runner import Runner
from gcu_model.conform.suite import SuiteError, load_suite, suite_files
from gcu_model.spec.loader import default_spec_dir, load_spec

ROOT = Path(__file__).resolve().parent.parent
SMALL = "s60-sriov-1vf"

# a step that unloads enflame: rmmod, or the second install that reloads it (§3); a bug in
# what keeps enflame loaded shows at whichever comes first
UNLOADS = ("rmmod()", "install_base(")
PEERMEM_LOADS = ("modprobe_peermem()", "install_peermem()")


def cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "gcu_model", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd or ROOT, timeout=900)


@pytest.fixture(scope="module")
def suites():
    return [load_suite(f) for f in suite_files([default_suite_dir()])]


# ------------------------------------------------------------------ generation
def test_there_is_one_suite_per_configuration(spec):
    assert {p.stem for p in default_suite_dir().glob("*.json")} == set(spec.configs)


@pytest.mark.parametrize("config", embedded_config_names())
def test_every_configuration_has_a_current_suite(config):
    """Regenerating from the unchanged spec gives byte-identical files (the committed ones);
    one configuration a test, so the workers share the regeneration."""
    r = cli("suite", "generate", "--check", "--config", config)
    assert r.returncode == 0, r.stdout + r.stderr


def test_generation_is_deterministic(spec):
    first = render(generate(spec, default_spec_dir(), SMALL))
    second = render(generate(load_spec(), default_spec_dir(), SMALL))
    assert first == second


def test_coverage_is_complete_for_every_criterion(suites):
    for s in suites:
        for criterion, c in s.coverage.items():
            assert c["targets"] > 0 and c["covered"] == c["targets"], (s.config, criterion, c)


def test_a_spec_change_gives_a_reviewable_diff(spec_copy):
    """Change one errno in the spec: the regenerated suite differs exactly where a case
    expects that refusal."""
    edit(spec_copy / "machines" / "pf.yaml", 'message: "sriov_numvfs: {card} already has VFs; write 0 first"',
         'message: "sriov_numvfs: {card} already has VFs"')
    edit(spec_copy / "machines" / "pf.yaml", "      - require: numvfs == 0\n        errno: EBUSY",
         "      - require: numvfs == 0\n        errno: EEXIST")
    old = (default_suite_dir() / "s60-sriov-2vf.json").read_text().splitlines()
    new = render(generate(load_spec(spec_copy), spec_copy, "s60-sriov-2vf")).splitlines()
    changed = [(a, b) for a, b in zip(old, new) if a != b]
    assert changed and len(old) == len(new)
    assert all('"EEXIST"' in b for a, b in changed[1:]), changed[:3]          # the digest line, then the cases
    assert '"spec_digest"' in changed[0][0]


def test_cases_are_short_and_few(suites):
    """Greedy tours: a case is at most a witness, a short tour and inserted refusals."""
    from gcu_model.conform.generate import MAX_CASE, MAX_TOUR
    for s in suites:
        assert all(len(c.steps) <= MAX_CASE + MAX_TOUR + 20 for c in s.cases), s.config
        targets = sum(c["targets"] for c in s.coverage.values())
        assert len(s.cases) < targets / 3, (s.config, len(s.cases), targets)


# ------------------------------------------------------------------ running
def test_the_reference_passes_every_case_of_every_configuration(suites):
    runner = Runner(open_target("reference"))
    failed = [r for s in suites for r in map(runner.run_case, s.cases) if not r.passed]
    assert not failed, failed[0].as_dict()
    assert runner.can_observe


def test_the_reference_passes_every_case_through_the_guides_commands(suites):
    """--via surface (issue 16, item 5): each step that carries the guide's command is sent as
    that command (a sysfs write, a shell line); most steps do, and every case still passes."""
    runner = Runner(open_target("reference"), via="surface")
    failed = [r for s in suites for r in map(runner.run_case, s.cases) if not r.passed]
    assert not failed, failed[0].as_dict()
    total = runner.by_surface + runner.by_action
    assert runner.by_surface >= 0.8 * total, (runner.by_surface, total)


@pytest.mark.reqs("RST-3")
def test_steps_within_a_line_that_waits(suites, spec):
    """A line that waits for its reset (efsmi) is a step's command when the suite's next
    steps are the reset's own: those are `within` it, not sent, and seen once the line has
    done them; an efsmi that returns before the reset has ended is caught there."""
    suite = next(s for s in suites if s.config == "t20-reset")
    cases = [c for c in suite.cases if any(st.within for st in c.steps)]
    assert cases
    for c in cases:
        k = next(i for i, st in enumerate(c.steps) if st.within)
        assert c.steps[k - 1].command and c.steps[k].action.startswith("reset_completes")
    assert all(Runner(open_target("reference"), via="surface").run_case(c).passed for c in cases)
    runner = Runner(open_target("python:faulty_impl:no_wait"), via="surface")
    failed = [r for r in map(runner.run_case, cases) if not r.passed]
    assert failed and all(r.divergence.what == "observation" for r in failed)
    assert all(r.divergence.message.startswith("after $ efsmi ") for r in failed), failed[0].as_dict()
    assert runner.within > 0
    from gcu_model.conform.lockstep import comparer, replay, shrink
    case = next(c for c in cases if c.id == failed[0].case_id)
    target = open_target("python:faulty_impl:no_wait")
    again = replay(comparer(spec, suite.config, target, via="surface"), suite.config, case.choose, failed[0].prefix)
    assert again is not None and again.divergence.what == "observation"          # the replay shows it too
    small = shrink(comparer(spec, suite.config, target, via="surface"), suite.config, case.choose, failed[0].prefix)
    assert small is not None and any(a.startswith("efsmi_") for a in small.prefix)
    assert all(Runner(open_target("python:faulty_impl:no_wait")).run_case(c).passed for c in cases)   # by apply: fine


def test_a_wrong_implementation_is_caught_through_the_commands(suites):
    """The same bug as below, found by typing the guide's `rmmod enflame`: the step is sent
    as that command line and its exit status is what differs."""
    runner = Runner(open_target("mutant:rmmod-ignores-peermem"), via="surface")
    suite = next(s for s in suites if s.config == "t20-asic")
    failed = [r for r in map(runner.run_case, suite.cases) if not r.passed]
    assert failed
    v = failed[0].divergence
    assert v.what == "outcome" and v.action.startswith(UNLOADS)
    assert v.expected == {"accepted": False} and v.observed == {"accepted": True}
    assert v.message.startswith(("$ sudo rmmod enflame", "$ sudo ./enflame-xxx.run"))


def test_a_wrong_implementation_fails_at_the_first_diverging_step(suites):
    """rmmod while enflame_peermem is loaded: the case fails at that step, with expected
    and observed outcomes and the prefix that replays it."""
    runner = Runner(open_target("mutant:rmmod-ignores-peermem"))
    suite = next(s for s in suites if s.config == "t20-asic")
    results = [runner.run_case(c) for c in suite.cases]
    failed = [r for r in results if not r.passed]
    assert failed and len(failed) < len(results)
    first = failed[0]
    v = first.divergence
    assert v.what == "outcome" and v.action.startswith(UNLOADS)
    assert v.expected == {"accepted": False, "errno": "EBUSY"} and v.observed == {"accepted": True}
    assert first.prefix[-1] == v.action and any(a.startswith(PEERMEM_LOADS) for a in first.prefix)
    assert len(first.prefix) == v.step


def test_observations_catch_what_outcomes_do_not(suites):
    """A PF FLR that keeps L3: every action is accepted as expected; the device
    observation after the reset is what differs (a model-only label: compared with model=True)."""
    runner = Runner(open_target("mutant:l3-kept-after-pf-flr"), model=True)
    suite = next(s for s in suites if s.config == "s60-reset")
    failed = [r for r in map(runner.run_case, suite.cases) if not r.passed]
    assert failed
    v = failed[0].divergence
    assert v.what == "observation" and any(k.startswith("device.card0.l") for k in v.observed)


@pytest.mark.parametrize("target", ["python:faulty_impl:crashing", "exec:{py} tests/faulty_impl.py hang",
                                    "exec:{py} tests/faulty_impl.py garbage", "exec:{py} tests/faulty_impl.py exit"])
def test_a_crash_a_hang_or_garbage_fails_that_case_and_the_run_goes_on(suites, target):
    # the timeout leaves a fresh process time to load the spec on a busy machine
    target = open_target(target.format(py=sys.executable), timeout=8.0)
    runner = Runner(target)
    suite = next(s for s in suites if s.config == "t20-asic")
    cases = [c for c in suite.cases if any(st.action == "modprobe_peermem()" for st in c.steps)][:1] + \
        [c for c in suite.cases if all(st.action != "modprobe_peermem()" for st in c.steps)][:3]
    try:
        results = [runner.run_case(c) for c in cases]
    finally:
        target.close()
    assert [r.passed for r in results] == [False, True, True, True], [r.as_dict() for r in results]
    for r in results[:1]:
        assert r.divergence.what == "target" and r.divergence.action == "modprobe_peermem()"
        assert any(w in r.divergence.message for w in ("raised RuntimeError", "hung", "garbage", "exited"))


def test_the_suites_run_through_the_fuse_sysfs_target(suites, tmp_path):
    """The same cases through a live FUSE mount (`sysfs:ROOT` with the control folder):
    initial states chosen by `reset`, observations read from gcu-model/observe."""
    suite = next(s for s in suites if s.config == "t20-asic")
    cases = [c for c in suite.cases if c.choose != suite.cases[0].choose][:3] + suite.cases[:3]
    assert len({json.dumps(c.choose, sort_keys=True) for c in cases}) > 1
    with fuse_mount(tmp_path / "host") as point:
        target = open_target(f"sysfs:{point}")
        runner = Runner(target)
        results = [runner.run_case(c) for c in cases]
        assert all(r.passed for r in results), [r.as_dict() for r in results if not r.passed][:1]
        assert runner.can_observe


def test_a_target_without_observe_is_observed_through_its_surface(suites):
    runner = Runner(open_target("python:faulty_impl:blind"))
    suite = next(s for s in suites if s.config == SMALL)
    assert all(runner.run_case(c).passed for c in suite.cases)
    assert runner.can_observe is True and runner.observer.walks


def test_conform_cli_json_and_junit(tmp_path):
    junit = tmp_path / "out.xml"
    r = cli("conform", "--target", "mutant:rmmod-ignores-peermem", "--config", "t20-asic", "--config", SMALL,
            "--json", "--junit", junit)
    assert r.returncode == 1, r.stderr
    doc = json.loads(r.stdout)
    assert not doc["ok"] and {c["config"] for c in doc["configs"]} == {"t20-asic", SMALL}
    failures = [c for c in doc["cases"] if not c["passed"]]
    assert failures and failures[0]["failure"]["replay"]["actions"][-1].startswith(UNLOADS)
    assert doc["requirements"]["UNLD-2"]["failed"] >= 1
    tree = ET.parse(junit)
    suites_el = {s.get("name"): s for s in tree.getroot()}
    assert int(suites_el["t20-asic"].get("failures")) == len(failures)
    assert suites_el[SMALL].get("failures") == "0"
    assert tree.getroot().find(".//failure") is not None


def test_conform_cli_human_output_passes_on_reference():
    n = len(load_suite(default_suite_dir() / f"{SMALL}.json").cases)
    r = cli("conform", "--target", "reference", "--config", SMALL)
    assert r.returncode == 0, r.stdout + r.stderr
    assert f"{n} of {n} cases passed" in r.stdout and "by requirement" in r.stdout


def test_bad_suites_and_targets_are_usage_errors(tmp_path):
    bad = tmp_path / "broken.json"
    bad.write_text('{"format": 2, "config": "t20-asic",\n "cases": [\n')
    r = cli("conform", "--target", "reference", "--suite", bad)
    assert r.returncode == 2 and "broken.json: line 3" in r.stderr and "Traceback" not in r.stderr
    bad.write_text(json.dumps({"format": 3, "config": "t20-asic", "coverage": {}, "initial_states": [{}],
                               "cases": [{"id": "x", "initial": 0, "steps": [{"action": "rmmod()",
                                                                              "expect": {"accepted": False}}]}]}))
    r = cli("conform", "--target", "reference", "--suite", bad)
    assert r.returncode == 2 and "step 1: a refused step needs the errno" in r.stderr
    bad.write_text(json.dumps({"format": 3, "config": "t20-asic", "coverage": {}, "initial_states": [{}],
                               "cases": [{"id": "x", "initial": 0, "steps": [{"action": "rmmod()", "within": True,
                                                                              "expect": {"accepted": True}}]}]}))
    r = cli("conform", "--target", "reference", "--suite", bad)
    assert r.returncode == 2 and "step 1: 'within' is true only for a step with no command" in r.stderr
    bad.write_text(bad.read_text().replace('"format": 3', '"format": 2'))
    r = cli("conform", "--target", "reference", "--suite", bad)
    assert r.returncode == 2 and "format 2; this gcu-model reads format 3" in r.stderr
    r = cli("conform", "--target", "banana")
    assert r.returncode == 2 and "unknown target 'banana'" in r.stderr
    r = cli("conform", "--target", "mutant:no-such-bug")
    assert r.returncode == 2 and "no mutant 'no-such-bug'" in r.stderr
    r = cli("suite", "generate", "--criteria", "states,colours", "--out", tmp_path)
    assert r.returncode == 2 and "unknown criterion 'colours'" in r.stderr
    r = cli("suite", "generate", "--config", SMALL, "--out", "/proc/no-such-dir")
    assert r.returncode == 2 and "cannot write /proc/no-such-dir" in r.stderr and "Traceback" not in r.stderr
    with pytest.raises(SuiteError, match="no such suite file or directory"):
        suite_files([tmp_path / "not-there"])
    (tmp_path / "empty").mkdir()
    with pytest.raises(SuiteError, match="no suite files"):
        suite_files([tmp_path / "empty"])


def test_pytest_plugin_runs_the_suites_as_tests():
    base = [sys.executable, "-m", "pytest", "conformance", "-q", "-p", "no:cacheprovider", "--gcu-config", SMALL]
    n = len(load_suite(default_suite_dir() / f"{SMALL}.json").cases)
    r = subprocess.run(base, capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert r.returncode == 0 and f"{n} passed" in r.stdout, r.stdout[-2000:]
    r = subprocess.run(base[:-2] + ["--gcu-config", "t20-asic", "--gcu-target", "mutant:rmmod-ignores-peermem"],
                       capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert r.returncode == 1 and re.search(r"step \d+ (rmmod\(\)|install_base\([^)]*\)): the outcome differs",
                                           r.stdout), r.stdout[-2000:]


def test_lockstep_campaign_is_sharded_across_xdist_workers():
    """Issue 8, item 4: --gcu-lockstep N makes N tests per configuration, each with its own
    seed, which pytest-xdist spreads over processes; a failing shard names its seed."""
    base = [sys.executable, "-m", "pytest", "conformance", "-p", "no:cacheprovider", "-n", "2", "-k", "lockstep",
            "--gcu-lockstep", "4", "--gcu-lockstep-examples", "10"]
    r = subprocess.run(base + ["--gcu-config", SMALL, "-v"], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert r.returncode == 0 and "4 passed" in r.stdout, r.stdout[-2000:]
    assert {f"[gw{k}]" for k in (0, 1)} <= {w for w in ("[gw0]", "[gw1]") if w in r.stdout}   # both workers ran shards
    assert all(f"{SMALL}/shard{i}" in r.stdout for i in range(4))
    r = subprocess.run(base[:-4] + ["--gcu-lockstep", "2", "--gcu-lockstep-examples", "150", "--gcu-config", "t20-asic",
                                    "--gcu-target", "mutant:rmmod-ignores-peermem"],
                       capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert r.returncode == 1 and "seed 0:" in r.stdout and re.search(r"rmmod\(\)|install_base\(", r.stdout), \
        r.stdout[-2000:]
    r = subprocess.run([sys.executable, "-m", "pytest", "conformance", "-p", "no:cacheprovider", "--gcu-lockstep", "-1"],
                       capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert r.returncode == 4 and "--gcu-lockstep takes N >= 0" in r.stderr and "Traceback" not in r.stderr


# ------------------------------------------------------------------ lockstep
def test_lockstep_agrees_with_the_reference(spec):
    target = open_target("reference", spec)
    result = run_lockstep(spec, SMALL, target, examples=30, max_steps=15)
    assert result.passed and result.examples >= 30 and result.steps > 30 * 5


@pytest.mark.parametrize("mutant, config, line", [
    ("rmmod-with-open-device", "t20-asic", "$ sudo rmmod enflame"),
    ("vf-deleted-under-load", "s60-sriov-2vf", "$ echo 0 > /sys/bus/pci/devices/0000:01:00.0/sriov_numvfs")])
def test_lockstep_through_the_guides_commands(spec, mutant, config, line):
    """Issue 16, item 5: `--via surface` lockstep sends a step as its command line (a shell
    line, a sysfs write) where one is exactly that action: the reference agrees step by step,
    and a wrong driver is caught at the command, shrunk to the steps that show it."""
    fine = run_lockstep(spec, config, open_target("reference", spec), examples=15, max_steps=15, seed=1, via="surface")
    assert fine.passed and fine.via == "surface" and 0 < fine.by_command < fine.steps, fine.as_dict()
    assert fine.as_dict()["steps_by_command"] == fine.by_command
    bad = run_lockstep(spec, config, open_target(f"mutant:{mutant}", spec), examples=100, via="surface", first_only=True)
    assert not bad.passed and bad.failure.divergence.what == "outcome"
    assert bad.failure.divergence.message.startswith((line, "$ sudo ./enflame-xxx.run")), bad.failure.divergence.message
    assert len(bad.failure.prefix) <= 4, bad.failure.prefix


def test_lockstep_shrinks_a_failure_to_a_replayable_sequence(spec):
    target = open_target("mutant:rmmod-ignores-peermem", spec)
    result = run_lockstep(spec, "t20-asic", target, examples=200)
    assert not result.passed
    prefix = result.failure.prefix
    assert prefix[-1].startswith(UNLOADS) and len(prefix) <= 10
    # the sequence replays: the reference refuses its last step, the mutant accepts it
    for name, want in (("reference", False), ("mutant:rmmod-ignores-peermem", True)):
        t = open_target(name, spec)
        t.request({"op": "reset", "config": "t20-asic", "initial": result.failure.choose})
        outcomes = [t.request({"op": "apply", "action": a})["outcome"]["accepted"] for a in prefix]
        assert outcomes[:-1] == [True] * (len(prefix) - 1) and outcomes[-1] is want


# ------------------------------------------------------------------ mutants
def test_at_least_25_mutants_each_tied_to_requirements(spec):
    mutants = load_mutants(kit_dir() / "mutants")
    assert len(mutants) >= 25
    for m in mutants:
        assert m.reqs and all(r in spec.requirements for r in m.reqs), m.name
        assert m.configs and all(c in spec.configs for c in m.configs), m.name


MODEL_ONLY = [m.name for m in load_mutants(kit_dir() / "mutants") if m.model_only]


def test_few_mutants_need_the_models_labels():
    assert set(MODEL_ONLY) <= {"l3-kept-after-pf-flr", "l3-split-ignores-pf-reserve", "secured-read-leaks"}


@pytest.mark.parametrize("mutant", MODEL_ONLY)
def test_a_model_only_mutant_is_invisible_to_what_a_user_sees(suites, mutant):
    """Its reason holds: the suite of its first configuration, compared on what a user sees,
    does not catch it (else it must not be marked model_only)."""
    m = next(x for x in load_mutants(kit_dir() / "mutants") if x.name == mutant)
    runner = Runner(open_target(f"mutant:{mutant}"))
    suite = next(s for s in suites if s.config == m.configs[0])
    assert all(runner.run_case(c).passed for c in suite.cases)


@pytest.mark.parametrize("mutant", [m.name for m in load_mutants(kit_dir() / "mutants")])
def test_every_mutant_is_caught_by_the_suites_and_by_lockstep(spec, suites, mutant):
    m = next(x for x in load_mutants(kit_dir() / "mutants") if x.name == mutant)
    result = run_mutant(m, spec, default_spec_dir(), kit_dir(), suites)
    assert not result.error, result.error
    assert result.suite_caught, f"{mutant}: no case of the suites fails"
    assert result.lockstep_caught, f"{mutant}: lockstep found nothing in {result.lockstep_examples} examples"
    assert 1 <= result.lockstep_steps <= 10, result.lockstep_prefix
