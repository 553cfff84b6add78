"""Every command line of the KMD guide is one the reference host knows (issue 17): read out of
the guide's own text (tests/guide_commands.py), its placeholders filled as a user fills them,
played in a configuration of its section on a host with the driver installed. A line may be
refused (exit 1: the host says why), never unknown: exit 127 (command not found) or a usage
error for a line the host cannot read (exit 2).

GAPS names the lines the host does not know yet, exactly: a line learnt must leave the list
(the test fails until it does), a line lost fails at once.
"""
from __future__ import annotations

import re

import pytest

from guide_commands import SEED, guide_lines
from gcu_model.reference.host import ReferenceHost
from gcu_model.reference.shell import Shell

# the configuration a section's commands are played in (the longest prefix wins)
SECTION_CONFIG = {"": "t20-asic", "3": "t20-vgcu", "7": "t20-asic", "8.6": "i20-firewall", "8.9": "t20-rpm",
                  "9": "s60-sriov-4vf", "11.1": "s60-asic"}
INSTALL = {"t20-vgcu": "sudo ./enflame-xxx.run --with-vgcu", "s60-sriov-4vf": "sudo ./enflame-xxx.run --virt-host --vf-num 2"}
# the guide's placeholders, as a user fills them on that host
FILL = [(r"/devices/xxx/", "/devices/0000:01:00.0/"), (r"\[--slot xxx\]", "--slot 0000:01:00.1"),
        (r"--vf-num N\b", "--vf-num 2"), (r"\$vf_bdf", "0000:01:00.1"), (r"\[ID\]", "0"), (r"\bPID\b", "{pid}"),
        (r"enflame\.\*\.run --xxx", "enflame-xxx.run")]

# Lines the host does not know yet (issue 17 goes through them): section, the line's start.
GAPS = {
    ("7.3", "./caps/qemu/qemu-build-sample.sh 2.6.0"),       # building the patched QEMU (§7.3)
    ("7.3", "./caps/qemu/qemu-build-sample.sh 5.0.0"),
    ("9.5", "sudo docker exec -it gcu0_test /bin/bash"),     # a shell in a container
    ("10.2", 'X=(); for a in $(mount | cut -d\' \' -f3); do test -e "$a" || X+=("-e$a"); done ; '
             'lsof "${X[@]}" -f -- /dev/gcu*'),             # who holds a node
    ("10.3", "/etc/init.d/openibd status"),
    ("11.1", 'dev=0000:01:00.0 port=$(basename $(dirname $(readlink "/sys/bus/pci/devices/$dev"))) '
             '[ -e "/sys/bus/pci/devices/$port" ] && { bc=$(setpci -s $port BRIDGE_CONTROL) setpci -s $port '
             'BRIDGE_CONTROL=$(printf "%04x" $((0x$bc | 0x40))) sleep 0.01 setpci -s $port BRIDGE_CONTROL=$bc '
             'sleep 0.5 }'),                                 # the link reset through the bridge
}


def config_of(section: str) -> str:
    best = max((k for k in SECTION_CONFIG if section == k or section.startswith(k + ".") or not k), key=len)
    return SECTION_CONFIG[best]


def played_as(text: str, pid: int) -> str:
    for pattern, value in FILL:
        text = re.sub(pattern, value.format(pid=pid), text)
    return text


@pytest.fixture(scope="module")
def lines():
    if not SEED.exists():
        pytest.skip(f"the guide is not at {SEED}")
    return guide_lines()


def test_the_guide_gives_its_commands(lines):
    """The reading is sound: commands from every chapter, none with the guide's prose in it."""
    assert len(lines) >= 90
    assert {ln.section.split(".")[0] for ln in lines} >= {"3", "5", "6", "8", "9", "10", "11"}
    assert not any(re.search(r"[\u4e00-\u9fff]", ln.text) for ln in lines)
    assert "echo 0 > /sys/bus/pci/drivers/enflame/reset_enable" in [ln.text for ln in lines]   # §11.3, after a comment


def test_every_guide_command_is_known_to_the_host(spec, lines):
    found = {}
    for ln in lines:
        config = config_of(ln.section)
        host = ReferenceHost(spec, config)
        sh = Shell(host)
        assert sh.run(INSTALL.get(config, "sudo ./enflame-xxx.run")).status == 0
        if "PID" in ln.text:
            assert sh.run("./app /dev/gcu0 &").status == 0     # the process kill -9 PID ends
        pid = next(iter(sh.jobs.values()))[0] if sh.jobs else 4242
        r = sh.run(played_as(ln.text, pid))
        if r.status == 127 or r.status == 2:
            found[(ln.section, ln.text)] = r.stderr.strip()[:120]
    assert set(found) == set(GAPS), "\n".join(
        [f"unknown now: §{s}: {t}\n    {found[(s, t)]}" for s, t in sorted(set(found) - set(GAPS))] +
        [f"known now, drop it from GAPS: §{s}: {t}" for s, t in sorted(set(GAPS) - set(found))])
