"""A spec for another card, with its card family named otherwise, runs everywhere (SRIOV-1,
SRIOV-3, PROD-1, PROD-3).

A copy of specs/ calls the card family `gpu` instead of `card` (every word `card` of every
file: the family, the parameters that name cards, per-card constants, messages) and adds a
card the embedded spec does not know: an `S70` with its own PCI ids and a 2-VF part. The
reference host, its sysfs and shell, runbooks and conformance find families by their
role (families.yaml `role:`), so `check`, `shell`, `run`, `lint`, `suite generate` and
`conform --target reference` all work on it, and what a user sees is named as Linux names
it (PCI addresses, /dev/gcuN), never by the spec's labels. A spec that drops a role the
host needs, or renames a variable the reference reads, is refused with that reason (exit 2).
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import edit
from gcu_model.spec.loader import default_spec_dir

CONFIG = "s70-sriov-2vf"
RUNBOOK = """\
# The guide's §9.4 on the new card: VFs by sriov_numvfs, one passed to a VM.
# @config s70-sriov-2vf
sudo ./enflame-xxx.run --virt-host --vf-num 2
# @expect accepted
cat /sys/bus/pci/devices/0000:01:00.0/sriov_numvfs
echo 0 > /sys/bus/pci/devices/0000:01:00.0/sriov_numvfs
# @expect accepted
echo 2 > /sys/bus/pci/devices/0000:01:00.0/sriov_numvfs
# @expect accepted
echo 0000:01:00.0 > /sys/bus/pci/drivers/vfio-pci/bind
# @expect refused
echo 0000:01:00.1 > /sys/bus/pci/drivers/vfio-pci/bind
# @expect accepted
"""


def other_card_spec(root: Path) -> Path:
    """specs/ copied to root/specs, the card family renamed to gpu, an S70 card added."""
    dest = root / "specs"
    shutil.copytree(default_spec_dir(), dest)
    for path in dest.rglob("*.yaml"):
        path.write_text(re.sub(r"\bcard\b", "gpu", path.read_text(encoding="utf-8")), encoding="utf-8")
    constants, configs = dest / "constants.yaml", dest / "configs.yaml"
    edit(constants, "product: [T20, I20, S60]", "product: [T20, I20, S60, S70]")
    edit(constants, "part_number: [none, EFB-0088000-00, EFB-0088800-00]",
         "part_number: [none, EFB-0088000-00, EFB-0088800-00, EFB-0099000-00]")
    edit(constants, "  S60: {supports_sriov: true, l3_total_mb: 49152, l3_pf_reserved_mb: 2048}\n",
         "  S60: {supports_sriov: true, l3_total_mb: 49152, l3_pf_reserved_mb: 2048}\n"
         "  S70: {supports_sriov: true, l3_total_mb: 65536, l3_pf_reserved_mb: 4096}\n")
    edit(constants, "  EFB-0088800-00: {product: S60, vf_modes: [2], vf_slots: 2, asic_ok: false}",
         "  EFB-0088800-00: {product: S60, vf_modes: [2], vf_slots: 2, asic_ok: false}\n"
         "  EFB-0099000-00: {product: S70, vf_modes: [1, 2], vf_slots: 2}")
    edit(constants, "pci_device: {T20: 0x0021, I20: 0x8001, S60: 0x0060}",
         "pci_device: {T20: 0x0021, I20: 0x8001, S60: 0x0060, S70: 0x0070}")
    edit(constants, "vf_device: {S60: 0x0061}", "vf_device: {S60: 0x0061, S70: 0x0071}")
    edit(configs, "  s60-sriov-4vf:\n", f"""  {CONFIG}:
    description: "One S70 (EFB-0099000-00) as an SR-IOV host with 2 VFs, two VMs"
    values: {{product: S70, part_number: EFB-0099000-00, cards: 1, vms: 2, max_opens: 1, explore_host_faults: false,
             explore_host_setup: false, install_modes: [virt_host], vf_num_options: [0, 2], numvfs_writes: [0, 2]}}
    initial: {{gpu.fw: ["off"], host.headers: [true], host.sig_enforced: [false], host.openibd: [healthy]}}
  s60-sriov-4vf:
""")
    return dest


@pytest.fixture(scope="module")
def other(tmp_path_factory):
    return other_card_spec(tmp_path_factory.mktemp("other-card"))


def gcu_model(*args, stdin: str | None = None, cwd=None, cache=None):
    env = dict(os.environ, GCU_MODEL_CACHE=str(cache) if cache else "off", COLUMNS="200")
    return subprocess.run([sys.executable, "-m", "gcu_model", *map(str, args)], input=stdin, capture_output=True,
                          text=True, cwd=cwd, env=env, timeout=900)


def no_traceback(r):
    assert "Traceback" not in r.stdout + r.stderr, r.stdout + r.stderr


def test_check_explores_and_proves_the_new_card(other, tmp_path):
    r = gcu_model("check", "--specs", other, "--config", CONFIG, "--json", cache=tmp_path)
    no_traceback(r)
    assert r.returncode == 0, r.stdout + r.stderr
    assert f'"config": "{CONFIG}"' in r.stdout and '"static_checks": "passed"' in r.stdout
    again = gcu_model("check", "--specs", other, "--config", CONFIG, "--no-prove", "--json", cache=tmp_path)
    assert again.returncode == 0 and '"static_checks": "passed before (cached)"' in again.stdout


def test_the_shell_shows_the_new_card_as_linux_names_it(other):
    lines = ["sudo ./enflame-xxx.run --virt-host --vf-num 2", "lspci -nD", "ls /dev",
             "echo 1 > /sys/bus/pci/devices/0000:01:00.0/sriov_numvfs", "efsmi -r -i 1", "dmesg"]
    r = gcu_model("shell", "--specs", other, "--config", CONFIG, stdin="\n".join(lines) + "\n")
    no_traceback(r)
    out = r.stdout + r.stderr
    assert "0000:01:00.0 1200: 1e36:0070" in out and "0000:01:00.1 1200: 1e36:0071" in out     # PROD-1
    assert "0000:01:00.2 1200: 1e36:0071" in out and "0000:01:00.3" not in out              # its 2 VF slots
    assert re.search(r"^gcu2$", out, re.M)                                                   # /dev: PF + 2 VFs
    assert "VF FLR" in out and "Resetting GCU 1" in out
    assert not re.search(r"\bgpu\d", out), "a model label reached the user: " + out      # BDFs, never labels


def test_a_runbook_runs_and_lints_on_the_new_card(other, tmp_path):
    book = tmp_path / "s70.sh"
    book.write_text(RUNBOOK, encoding="utf-8")
    played = gcu_model("run", "--specs", other, book)
    no_traceback(played)
    assert played.returncode == 1, played.stdout + played.stderr          # one line is refused, as it should be
    session = played.stdout.split("$ ")
    refused = next(s for s in session if s.startswith("echo 0000:01:00.0 > /sys/bus/pci/drivers/vfio-pci/bind"))
    assert "Operation not permitted" in refused                           # SRIOV-3: the PF is never passed through
    assert all("error" not in s for s in session if not s.startswith("echo 0000:01:00.0 > "))
    linted = gcu_model("lint", "--specs", other, book, "--no-fix")
    no_traceback(linted)
    verdicts = [line for line in linted.stdout.splitlines() if line.startswith(str(book))]
    assert [v.split(": ")[1] for v in verdicts] == ["ok"] * 4 + ["REFUSED", "ok"], linted.stdout
    assert "EPERM: 0000:01:00.0 is the PF of an SR-IOV host" in linted.stdout       # its address, not a label
    assert "SRIOV-3" in linted.stdout


def test_conform_passes_the_new_cards_suite_and_lockstep_on_the_reference(other, tmp_path):
    suites = tmp_path / "suites"
    made = gcu_model("suite", "generate", "--specs", other, "--config", CONFIG, "--out", suites, "--json")
    no_traceback(made)
    assert made.returncode == 0, made.stdout + made.stderr
    assert (suites / f"{CONFIG}.json").is_file()
    played = gcu_model("conform", "--specs", other, "--target", "reference", "--suite", suites, "--json")
    no_traceback(played)
    assert played.returncode == 0, played.stdout + played.stderr
    assert '"failed": 0' in played.stdout.replace(" ", "").replace('"failed":0', '"failed": 0')
    lockstep = gcu_model("conform", "--specs", other, "--target", "reference", "--config", CONFIG,
                         "--explore", "15", "--seed", "3")
    no_traceback(lockstep)
    assert lockstep.returncode == 0 and f"PASS {CONFIG}" in lockstep.stdout, lockstep.stdout + lockstep.stderr


@pytest.mark.parametrize("pattern, new, phrase", [
    (r"role: (pf|vf), ", "", "needs a family with role: pf"),
    (r"\bih_thread\b", "irq_thread", "reads ih_thread of family gpu (role pf)"),
])
def test_a_spec_the_reference_cannot_read_is_refused_with_the_reason(tmp_path, pattern, new, phrase):
    spec = other_card_spec(tmp_path)
    for path in spec.rglob("*.yaml"):
        path.write_text(re.sub(pattern, new, path.read_text(encoding="utf-8")), encoding="utf-8")
    loads = gcu_model("configs", "--specs", spec)
    assert loads.returncode == 0, loads.stderr          # a valid spec: only the reference cannot use it
    r = gcu_model("shell", "--specs", spec, "--config", CONFIG, stdin="lsmod\n")
    no_traceback(r)
    assert r.returncode == 2, r.stdout + r.stderr
    assert phrase in r.stderr, r.stderr


def test_a_hook_write_is_the_action_the_surface_declares(tmp_path):
    """surface.yaml's sriov_numvfs hook is the action its write declares: a spec that renamed
    write_sriov_numvfs (surface.yaml too) loads, and the write applies the renamed action; the
    hook chooses no action of its own."""
    from gcu_model.reference.host import ReferenceHost
    from gcu_model.reference.sysfs import Sysfs, SysfsError
    from gcu_model.spec.loader import load_spec
    spec_dir = other_card_spec(tmp_path)
    for path in spec_dir.rglob("*.yaml"):
        path.write_text(re.sub(r"\bwrite_sriov_numvfs\b", "set_numvfs", path.read_text(encoding="utf-8")),
                        encoding="utf-8")
    host = ReferenceHost(load_spec(spec_dir), CONFIG)
    fs = Sysfs(host)
    assert host.apply("install_base(opt_mode=virt_host, opt_vf_num=2, opt_auto_load=true)").accepted
    fs.write("/sys/bus/pci/devices/0000:01:00.0/sriov_numvfs", "0\n")
    assert host.value("gpu0.numvfs") == 0 and host.history[-1].action.startswith("set_numvfs(")
    with pytest.raises(SysfsError) as refused:          # past the VF slots: the renamed action refuses
        fs.write("/sys/bus/pci/devices/0000:01:00.0/sriov_numvfs", "9\n")
    assert refused.value.errno == "ERANGE"
