"""Command lines on the reference host (issue 5): the guide's sequences typed as the
guide types them, with the output and exit status a user sees."""
from __future__ import annotations

import pytest

from gcu_model.reference.host import ReferenceHost
from gcu_model.reference.shell import GCU_SRIOV_MGR_HELP, Shell
from conftest import edit


def session(spec, config, **initial):
    host = ReferenceHost(spec, config, initial or None)
    return host, Shell(host)


def ok(shell, line):
    r = shell.run(line)
    assert r.status == 0, (line, r)
    return r.stdout


@pytest.mark.reqs("UNLD-2", "PARAM-2", "PARAM-3")
def test_guide_5_and_10_2_module_in_use_then_reload(spec):
    host, sh = session(spec, "t20-asic")
    ok(sh, "sudo ./enflame-xxx.run")
    ok(sh, "sudo ./enflame_peer_mem-xxx.run && sudo modprobe enflame_peermem")
    listed = ok(sh, "lsmod | grep enflame")
    assert "enflame_peermem" in listed and listed.splitlines()[-1].split()[-1] == "enflame_peermem"
    r = sh.run("sudo rmmod enflame")
    assert r.status == 1 and "in use by: enflame_peermem" in r.stderr
    ok(sh, "sudo rmmod enflame_peermem ; sudo rmmod enflame")
    ok(sh, "cp -f /etc/modprobe.d/gcu.conf ./gcu_test.conf")
    ok(sh, "echo 'options enflame \"reset_enable=0\"' >> gcu_test.conf")
    assert ok(sh, "cat ./gcu_test.conf") == 'options enflame "reset_enable=0"\n'
    ok(sh, "sudo modprobe enflame -C ./gcu_test.conf")
    assert ok(sh, "cat /sys/module/enflame/parameters/reset_enable") == "0\n"
    assert sh.run("lsmod | grep nvidia").status == 1                  # grep found nothing


@pytest.mark.reqs("PARAM-1", "PARAM-2", "PARAM-3")
def test_guide_5_every_option_line(spec):
    """§5's option lines, the two-key one included: the model takes reset_enable, the host
    keeps enable_ssm_rt_fw and enable_sip_timeout_interval_ms and the loaded module shows
    them; -C applies once, the next plain load reads gcu.conf again."""
    host, sh = session(spec, "t20-asic")
    ok(sh, "sudo ./enflame-xxx.run")
    params = "/sys/module/enflame/parameters"
    assert ok(sh, f"cat {params}/enable_ssm_rt_fw {params}/enable_sip_timeout_interval_ms") == "1\n3000\n"
    ok(sh, "sudo rmmod enflame")
    ok(sh, "cp -f /etc/modprobe.d/gcu.conf ./gcu_test.conf")
    ok(sh, "echo 'options enflame \"enable_ssm_rt_fw=0\"' >> gcu_test.conf")
    ok(sh, "echo 'options enflame \"enable_sip_timeout_interval_ms=0\"' >> gcu_test.conf")
    ok(sh, "echo 'options enflame \"enable_ssm_rt_fw=0,reset_enable=0\"' >> gcu_test.conf")
    assert host.value("host.opt_tmp_conf") == "zero"
    assert sorted(ok(sh, "cat gcu_test.conf").splitlines()) == sorted([
        'options enflame "reset_enable=0"', 'options enflame "enable_ssm_rt_fw=0"',
        'options enflame "enable_sip_timeout_interval_ms=0"'])
    ok(sh, "sudo modprobe enflame -C ./gcu_test.conf")
    assert ok(sh, f"cat {params}/enable_ssm_rt_fw {params}/enable_sip_timeout_interval_ms "
                  f"{params}/reset_enable") == "0\n0\n0\n"
    ok(sh, "sudo rmmod enflame && sudo modprobe enflame")              # gcu.conf: defaults again
    assert ok(sh, f"cat {params}/enable_ssm_rt_fw {params}/reset_enable") == "1\n4294967295\n"
    ok(sh, "echo 'options enflame \"no_such_knob=1\"' >> /etc/modprobe.d/gcu.conf")
    ok(sh, "sudo rmmod enflame && sudo modprobe enflame")
    assert "enflame: unknown parameter 'no_such_knob' ignored" in ok(sh, "dmesg")
    # a refused model key leaves the line's other keys unwritten
    r = sh.run("echo 'options enflame \"enable_ssm_rt_fw=0,reset_enable=7\"' >> gcu_test.conf")
    assert r.status == 2 and "reset_enable=7" in r.stderr
    # a reboot loads the module afresh, from gcu.conf: the -C file's options are gone
    ok(sh, "sudo rmmod enflame && sudo modprobe enflame -C ./gcu_test.conf")
    assert ok(sh, f"cat {params}/enable_ssm_rt_fw") == "0\n"
    ok(sh, "sudo reboot")
    assert ok(sh, f"cat {params}/enable_ssm_rt_fw {params}/reset_enable") == "1\n4294967295\n"
    r = sh.run("echo 'options enflame \"enable_ssm_rt_fw=0\"' >> /tmp/elsewhere.conf")
    assert r.status == 2 and "/tmp/elsewhere.conf" in r.stderr


@pytest.mark.reqs("SRIOV-1", "SRIOV-7", "SRIOV-8")
def test_guide_9_4_gcusriovmgr(spec):
    host, sh = session(spec, "s60-sriov-4vf")
    assert ok(sh, "GcuSriovMgr --help") == GCU_SRIOV_MGR_HELP
    assert "Usage: sudo ./GcuSriovMgr.sh" in GCU_SRIOV_MGR_HELP
    ok(sh, "sudo ./enflame-xxx.run --virt-host --vf-num 4")
    r = sh.run("GcuSriovMgr --slot 01:00.0 --vf-num 2")
    assert r.status == 1 and "write 0 first" in r.stderr              # 4 -> 2 needs 0 between
    ok(sh, "GcuSriovMgr --slot 01:00.0 --vf-num 0")
    ok(sh, "GcuSriovMgr --slot 01:00.0 --vf-num 2")
    assert ok(sh, "lspci -nD | grep 1e36").count("\n") == 3           # the PF and two VFs
    assert "bound to vfio-pci" in ok(sh, "GcuSriovMgr --bind")
    assert host.value("card0.vf0.binding") == "vfio" and host.value("card0.vf1.binding") == "vfio"
    assert "driver enflame, 2 vf(s)" in ok(sh, "GcuSriovMgr --slot 01:00.0 --query")
    assert sh.run("GcuSriovMgr --slot 09:00.0 --query").status == 1
    assert sh.run("GcuSriovMgr --frob").status == 1
    r = sh.run("GcuSriovMgr --slot 01:00.1 --vf-num 1")
    assert r.status == 1 and "--vf-num is not for a vf" in r.stderr     # a VF has no sriov_numvfs (SRIOV-7)


@pytest.mark.reqs("RST-1", "RST-2", "RST-3", "DBG-1")
def test_guide_9_3_efsmi_resets_and_escalation(spec):
    host, sh = session(spec, "s60-reset")
    ok(sh, "sudo ./enflame-xxx.run --virt-host")
    out = ok(sh, "efsmi -r -i 1")                                       # the first VF: a VF FLR
    assert out.startswith("Resetting GCU 1") and out.endswith("done\n")
    host.failing_resets = 1                                            # the VF FLR fails: PF FLR follows
    ok(sh, "efsmi -r -i 1")
    assert host.device.cards[0].fw_reloads == 1                        # the PF FLR reloaded the firmware
    host.failing_resets = 3                                            # VF FLR, PF FLR, hot reset all fail
    r = sh.run("efsmi -r -i 1")
    assert r.status == 1 and "needs a reboot" in r.stderr and host.value("card0.reset") == "dead"
    assert "hot reset failed" in ok(sh, "dmesg")


@pytest.mark.reqs("RST-1", "RST-3", "RST-7")
def test_efsmi_reads_its_device_ids_as_the_host_numbers_them_now(spec):
    """commands.yaml's efsmi forms: -i N names the card or VF numbered N now, so one line is
    a VF FLR or a card's PCI FLR by what device N is; a T2x's FLR falls back to hot reset."""
    host, sh = session(spec, "s60-reset")
    ok(sh, "sudo ./enflame-xxx.run --virt-host")
    assert "VF FLR" in ok(sh, "efsmi -i 1 -r flr")                      # device 1 is the first VF
    assert host.value("card0.reset") == "idle"                          # it waited for the end
    out = ok(sh, "efsmi -r")                                            # device 0: the card's own FLR
    assert "VF FLR" not in out and out.startswith("Resetting GCU 0") and out.endswith("done\n")
    r = sh.run("efsmi -r -i 7")
    assert r.status == 1 and r.stderr == "efsmi: no GCU device with id 7\n"
    r = sh.run("efsmi -r hot -i 1")                                     # ASSUMPTION: hot reset takes a card's id
    assert r.status == 1 and r.stderr == "efsmi: no GCU device with id 1\n"
    r = sh.run("efsmi")
    assert r.status == 2 and r.stderr == ("efsmi: the model knows 'efsmi -r hot [-i ID]', 'efsmi -pf -r [-i ID]', "
                                          "'efsmi -r [-i ID]'\n")
    assert sh.run("efsmi -r hot --bogus").stderr == "efsmi: unknown option --bogus (it takes [-i ID])\n"
    assert sh.run("efsmi -i 0 -r hot -i 1").status == 2                  # two devices in one line
    host, sh = session(spec, "t20-reset")
    ok(sh, "sudo ./enflame-xxx.run")
    assert "T2x has no FLR" in ok(sh, "efsmi -r")                      # §11.1: hot reset instead


@pytest.mark.reqs("RST-8")
def test_sleep_lets_a_reset_end_as_time_passes(spec):
    """§11.1 `sleep 0.5`: the clock moves on, a running reset ends; GNU sleep's words."""
    host, sh = session(spec, "t20-reset")
    ok(sh, "sudo ./enflame-xxx.run")
    ok(sh, "echo 1 > /sys/class/enflame/gcu0/device/gcu_reload")
    assert host.value("card0.reset") != "idle"
    assert ok(sh, "sleep 0.5") == "" and host.value("card0.reset") == "idle"
    assert "reset done" in ok(sh, "dmesg")
    before = host.clock_ms
    ok(sh, "sleep 1m .5")
    assert host.clock_ms - before == 60_500
    assert sh.run("sleep 2x").stderr == "sleep: invalid time interval '2x'\n"
    assert sh.run("sleep").status == 1
    assert sh.run("sleep " + "9" * 400).status == 1 and host.clock_ms - before == 60_500     # no overflow


@pytest.mark.reqs("QEMU-3")
def test_the_quirk_file_of_a_card_off_the_bus_can_still_be_removed(spec):
    """The QEMU quirk file is named by the card's address; `rm -f` of it works while the card
    is removed from the bus (commands.yaml $PF falls back to the cards of the host)."""
    host, sh = session(spec, "s60-asic")
    ok(sh, "sudo ./enflame-xxx.run")
    ok(sh, "sudo cp caps/qemu/qirk-config-sample.conf /etc/qemu-quirks/enflame/0000:01:00.0.conf")
    ok(sh, "sudo rmmod enflame")
    ok(sh, "echo 1 > /sys/bus/pci/devices/0000:01:00.0/remove")
    ok(sh, "sudo rm -f /etc/qemu-quirks/enflame/0000:01:00.0.conf")
    assert sh.run("cat /etc/qemu-quirks/enflame/0000:01:00.0.conf").status == 1
    r = sh.run("sudo rm -f /etc/qemu-quirks/enflame/0000:07:00.0.conf")
    assert r.status == 1 and r.stderr == "rm: no GCU device at 0000:07:00.0\n"


def test_efsmi_says_what_commands_yaml_says(spec_copy):
    """The shell's efsmi is the table's: edit its `says:` and the words change, no code."""
    from gcu_model.spec.loader import load_spec
    edit(spec_copy / "commands.yaml", 'says: {start: "Resetting GCU $X ...", done: "done"',
         'says: {start: "VF $X: resetting", done: "VF $X: back"')
    host, sh = session(load_spec(spec_copy), "s60-reset")
    ok(sh, "sudo ./enflame-xxx.run --virt-host")
    out = ok(sh, "efsmi -r -i 1")
    assert out.startswith("VF 1: resetting\n") and out.endswith("VF 1: back\n")
    assert ok(sh, "efsmi -r -i 0").startswith("Resetting GCU 0 ...")     # the card's form is untouched


@pytest.mark.reqs("RST-8", "RST-9")
def test_guide_11_2_and_11_3_through_the_shell(spec):
    host, sh = session(spec, "t20-reset")
    ok(sh, "sudo ./enflame-xxx.run")
    ok(sh, "echo 1 > /sys/class/enflame/gcu0/device/gcu_reload")
    host.wait_out("reset_completes")
    saved = ok(sh, "cat /sys/bus/pci/drivers/enflame/reset_enable")
    ok(sh, "echo 0 > /sys/bus/pci/drivers/enflame/reset_enable")
    r = sh.run("echo 1 > /sys/class/enflame/gcu0/device/gcu_reload")
    assert r.status == 1 and r.stderr == "bash: echo: write error: Operation not permitted\n"
    ok(sh, f"echo {saved.strip()} > /sys/bus/pci/drivers/enflame/reset_enable")
    assert ok(sh, "efsmi -F -r -i 0").endswith("done\n")


def test_unknown_and_malformed_lines(spec):
    host, sh = session(spec, "t20-asic")
    assert sh.run("frobnicate --now").status == 127
    assert sh.run("frobnicate --now").stderr == "bash: frobnicate: command not found\n"
    assert sh.run("sudo ./enflame-xxx.run --bogus").status == 2
    assert sh.run("echo 'unterminated").status == 2
    assert sh.run("a\\'|'b").status == 2          # found by the property test: a quote the split cut apart
    assert sh.run("cat /sys/module/enflame/version").status == 1
    assert sh.run("").status == 0 and sh.run("# a comment").status == 0


@pytest.mark.reqs("SRIOV-8", "SRIOV-6", "UNLD-4", "RST-4", "RST-5", "DOCK-1")
def test_guide_9_5_host_docker_and_kvm_flows(spec):
    host, sh = session(spec, "s60-sriov-4vf")
    ok(sh, "sudo ./enflame-xxx.run --virt-host --vf-num 2")
    # a VF used in a container
    assert ok(sh, "sudo docker run -it --name gcu0_test --device /dev/gcu1:/dev/gcu1 "
                  "--device=/dev/gcuctl:/dev/gcuctl -v /home:/home --network host ubuntu:20.04") == ""
    r = sh.run("echo 0 > /sys/bus/pci/devices/0000:01:00.0/sriov_numvfs")
    assert r.status == 1 and "Device or resource busy" in r.stderr     # no VF deleted under load (SRIOV-6)
    assert sh.run("docker run --name gcu0_test --device /dev/gcu1 ubuntu").status == 125   # name in use
    assert ok(sh, "docker stop gcu0_test") == "gcu0_test\n"           # docker stop names what it stopped
    r = sh.run("docker run --name gcu0_test --device /dev/gcu1 ubuntu")
    assert r.status == 125 and 'docker rm gcu0_test' in r.stderr         # a stopped container keeps its name
    ok(sh, "docker rm gcu0_test")
    # a VF passed through to a KVM guest
    ok(sh, "GcuSriovMgr --slot 0000:01:00.2 --bind")
    ok(sh, "qemu-system-x86_64 -M q35 -m 16G -smp 8 -enable-kvm -name guest1 "
           "-device vfio-pci,bus=downstream1,host=0000:01:00.2")
    ok(sh, "[vm0] sudo ./enflame-xxx.run")
    ok(sh, "[vm0] ./app &")
    r = sh.run("[vm0] efsmi -r hot")
    assert r.status == 1 and "not supported" in r.stderr                # no hot reset of a VF in a VM (RST-4)
    assert ok(sh, "[vm0] efsmi -r").endswith("done\n")                   # a VF FLR, never escalated
    assert sh.run("sudo rmmod enflame").status == 1                      # the VM first (UNLD-4)
    assert sh.run("GcuSriovMgr --slot 0000:01:00.2 --unbind").status == 1
    ok(sh, "[guest1] kill %1")                                           # the VM by its -name
    ok(sh, "[guest1] poweroff")
    r = sh.run("[guest1] poweroff")
    assert r.status == 1 and "no VM guest1" in r.stderr                 # powered off, its name is free
    ok(sh, "GcuSriovMgr --slot 0000:01:00.2 --unbind")
    ok(sh, "sudo rmmod enflame")
    assert host.check_invariants() == []


def test_bad_docker_and_qemu_lines(spec):
    host, sh = session(spec, "t20-asic")
    ok(sh, "sudo ./enflame-xxx.run")
    assert sh.run("docker run --device /dev/gcu9 ubuntu").status == 125
    assert sh.run("docker stop nobody").status == 1
    r = sh.run("docker pull ubuntu")
    assert r.status == 2 and "docker stop NAME" in r.stderr       # not a line the model knows: what it knows
    assert sh.run("qemu-system-x86_64 -m 4G").status == 2                 # no device: a usage error
    assert sh.run("qemu-system-x86_64 -device vfio-pci,host=0000:07:00.0").status == 1
    r = sh.run("qemu-system-x86_64 -device vfio-pci,host=0000:01:00.0")
    assert r.status == 1 and "vfio" in r.stderr                          # still bound to enflame
    assert sh.run("[vm7] poweroff").status == 1
    assert sh.run("[vm0] frobnicate").status == 127


@pytest.mark.reqs("UNLD-1", "INST-1", "RPM-2")
def test_guide_6_unload_and_uninstall(spec):
    host, sh = session(spec, "t20-rpm")
    ok(sh, "sudo ./enflame-xxx.run")
    ok(sh, "echo 500 > /sys/class/enflame/gcu0/device/rpm/rpm_sleep_delay")
    assert ok(sh, "cat /sys/class/enflame/gcu0/device/rpm/rpm_sleep_delay") == "500\n"
    ok(sh, "lsmod | grep enflame ; sudo rmmod enflame")              # §6: for now
    assert sh.run("lsmod | grep enflame").status == 1
    ok(sh, "sudo modprobe enflame")
    assert ok(sh, "cat /sys/class/enflame/gcu0/device/rpm/rpm_sleep_delay") == "10000\n"   # a fresh load
    ok(sh, "sudo ./enflame-xxx.run --uninstall")                     # §6: for good
    assert host.value("host.kmd") == "absent"
    assert sh.run("sudo modprobe enflame").status == 1


@pytest.mark.reqs("UNLD-3", "RPM-4", "RPM-5")
def test_host_processes_hold_their_node(spec):
    host, sh = session(spec, "t20-rpm")
    ok(sh, "sudo ./enflame-xxx.run")
    assert ok(sh, "./train.py --device /dev/gcu0 &") == "[1] 4243\n"
    assert ok(sh, "efvs -i /dev/gcu0 &") == "[2] 4244\n"
    assert ok(sh, "cat /sys/class/enflame/gcu0/device/rpm/usage_count") == "2\n"
    ok(sh, "echo add:efvs > /sys/class/enflame/gcu0/device/rpm/whitelist")
    assert ok(sh, "cat /sys/class/enflame/gcu0/device/rpm/usage_count") == "1\n"   # efvs is left out (RPM-5)
    assert ok(sh, "lsmod | grep enflame").split()[2] == "2"                      # both still hold it
    r = sh.run("sudo rmmod enflame")
    assert r.status == 1 and "in use" in r.stderr                                # UNLD-3
    assert "train.py" in ok(sh, "jobs")
    ok(sh, "kill %1")
    ok(sh, "kill 4244")
    assert sh.run("kill %1").status == 1
    ok(sh, "sudo rmmod enflame")
    assert sh.run("./x /dev/gcu3 &").status == 1


def test_messages_name_devices_by_pci_address(spec):
    host, sh = session(spec, "s60-sriov-4vf")
    ok(sh, "sudo ./enflame-xxx.run --virt-host --vf-num 4")
    r = sh.run("sudo ./enflame-xxx.run --virt-host --vf-num 3")
    assert r.status == 1 and "does not support --vf-num 3" in r.stderr
    ok(sh, "echo 0 > /sys/bus/pci/devices/0000:01:00.0/sriov_numvfs")
    assert "enflame 0000:01:00.0: disabled SR-IOV" in ok(sh, "dmesg | grep 0000:01:00.0")
    assert "card0" not in ok(sh, "dmesg")


@pytest.mark.reqs("PROD-8", "INST-4", "VIRT-3")
def test_mdev_devices_by_uuid(spec):
    """§3: in mdev_host mode with the virt package, each I20 card offers two mdev devices,
    listed under /sys/bus/mdev/devices; QEMU takes one by its UUID, each at most once."""
    host, sh = session(spec, "i20-mdev")
    mdevs = "/sys/bus/mdev/devices"
    ok(sh, "sudo ./enflame-xxx.run --mdev-host")
    assert not host.value("card0.mdev_count")
    r = sh.run(f"cat {mdevs}/00000000-0000-4000-8000-000000000000/parent")
    assert r.status == 1 and "No such file" in r.stderr                # no mdevs without the virt package
    ok(sh, "sudo ./enflame_virt-xxx.run")
    uuids = sorted(sh.fs.listdir(mdevs))
    assert len(uuids) == 2
    assert ok(sh, f"cat {mdevs}/{uuids[0]}/parent {mdevs}/{uuids[0]}/mdev_type/device_api") == "0000:01:00.0\nvfio-pci\n"
    ok(sh, f"qemu-system-x86_64 -name a -device vfio-pci,sysfsdev={mdevs}/{uuids[0]}")
    r = sh.run(f"qemu-system-x86_64 -name b -device vfio-pci,sysfsdev={mdevs}/{uuids[0]}")
    assert r.status == 1 and "already in use by a" in r.stderr          # the VM by the name it was given
    r = sh.run(f"qemu-system-x86_64 -device vfio-pci,sysfsdev={mdevs}/12345678-0000-4000-8000-000000000000")
    assert r.status == 1 and "no GCU device at 12345678-0000-4000-8000-000000000000" in r.stderr
    ok(sh, f"qemu-system-x86_64 -name b -device vfio-pci,sysfsdev={mdevs}/{uuids[1]}")
    assert host.value("card0.mdev_used") == 2
    ok(sh, "[vm0] poweroff")
    ok(sh, f"qemu-system-x86_64 -name c -device vfio-pci,sysfsdev={mdevs}/{uuids[0]}")   # free again


@pytest.mark.reqs("FW-2", "FW-3")
@pytest.mark.parametrize("config, fw", [("i20-firewall", "on"), ("i20-asic", "off")])
def test_registers_through_bar0_and_the_firewall(spec, config, fw):
    """§8.6 with pcimem on resource0: behind an enabled firewall a secured register reads
    0xFFFFFFFF and ignores writes; a plain one holds what is written. With the firewall
    off (and firmware to match) the secured range is plain memory."""
    host, sh = session(spec, config, **{"card0.fw": fw})
    bar0 = "/sys/bus/pci/devices/0000:01:00.0/resource0"
    r = sh.run(f"pcimem {bar0} 0x2000")
    assert r.status == 1 and "not initialised" in r.stderr             # no KMD: no access
    ok(sh, "sudo ./enflame-xxx.run")
    lo = int(ok(sh, "cat /sys/kernel/debug/enflame/0/dump/dump_reg_group").split()[1].split("-")[0], 16)
    assert ok(sh, f"pcimem {bar0} 0x2000 w 0xCAFE0001") == "Written 0xCAFE0001; readback 0xCAFE0001\n"
    assert ok(sh, f"pcimem {bar0} 0x2000") == "0x00002000: 0xCAFE0001\n"
    out = ok(sh, f"pcimem {bar0} {lo:#x} w 0x12345678")
    if fw == "on":
        assert out == "Written 0x12345678; readback 0xFFFFFFFF\n"
        assert host.device.cards[0].registers.get(lo) is None            # ignored, not hidden
    else:
        assert out == "Written 0x12345678; readback 0x12345678\n"
    assert host.check_invariants() == []
    for bad in (f"pcimem {bar0} 0x2002", f"pcimem {bar0} 0x10 w 0x1FFFFFFFF", f"pcimem {bar0} zz",
                "pcimem /sys/bus/pci/devices/0000:01:00.0/resource1 0x10", f"pcimem {bar0} 0x10 b"):
        assert sh.run(bad).status == 1, bad


@pytest.mark.reqs("QEMU-1", "QEMU-3", "QEMU-4")
def test_quirk_access_control_file_and_logging(spec):
    """§7.4-7.6: the sample access-control file makes BAR0 read-only for the guest and
    leaves BAR1 alone; `logging = 1` makes a passed-through hot reset print the quirk's
    line. The card is handed to vfio-pci in the usual two steps (unbind, bind)."""
    host, sh = session(spec, "t20-reset")
    card, conf = "0000:01:00.0", "/etc/qemu-quirks/enflame/0000:01:00.0.conf"
    ok(sh, "sudo ./enflame-xxx.run")
    assert sh.run(f"cat {conf}").status == 1
    ok(sh, "sudo mkdir -p /etc/qemu-quirks/enflame")
    ok(sh, f"sudo cp caps/qemu/qirk-config-sample.conf {conf}")
    assert ok(sh, f"grep logging {conf}") == "logging = 0\n"
    ok(sh, f"echo vfio-pci > /sys/bus/pci/devices/{card}/driver_override")
    ok(sh, f"echo {card} > /sys/bus/pci/drivers/enflame/unbind")
    r = sh.run(f"qemu-system-x86_64 -device vfio-pci,host={card}")
    assert r.status == 1 and "bind it to vfio-pci first" in r.stderr    # driverless between the steps
    ok(sh, f"echo {card} > /sys/bus/pci/drivers/vfio-pci/bind")
    ok(sh, f"qemu-system-x86_64 -name guest -device vfio-pci,host={card}")
    guest_bar = "/sys/bus/pci/devices/0000:00:05.0/resource"
    assert ok(sh, f"[vm0] pcimem {guest_bar}0 0x40 w 0x1") == "Written 0x00000001; readback 0x00000000\n"
    assert ok(sh, f"[vm0] pcimem {guest_bar}1 0x40 w 0x1") == "Written 0x00000001; readback 0x00000001\n"
    assert "GCU Qemu Quirk" not in ok(sh, "[vm0] efsmi -r hot")
    assert host.device.cards[0].bar1 == {}                               # the hot reset cleared it
    ok(sh, f"sudo sed -i 's/logging = 0/logging = 1/' {conf}")
    assert "GCU Qemu Quirk Reset Passthrough" in ok(sh, "[vm0] efsmi -r hot")
    assert "GCU Qemu Quirk" not in ok(sh, "dmesg")                      # QEMU's log, not the kernel's
    ok(sh, "[vm0] poweroff")
    ok(sh, f"sudo rm -f {conf}")                                        # the next start has no file
    ok(sh, f"qemu-system-x86_64 -name guest -device vfio-pci,host={card}")
    assert ok(sh, f"[vm0] pcimem {guest_bar}0 0x40 w 0x2") == "Written 0x00000002; readback 0x00000002\n"
    r = sh.run(f"sudo sed -i 's/logging = 0/logging = 1/' {conf}")
    assert r.status == 2 and "can't read" in r.stderr


@pytest.mark.reqs("PARAM-1", "VER-4")
def test_paths_with_globs_expand_as_bash_does(spec):
    """§8.2 `cat /sys/module/enflame/parameters/*`: the shell expands a path pattern over the
    host's tree, sorted, as bash does; a pattern nothing matches is left as written."""
    host, sh = session(spec, "t20-2card")
    ok(sh, "sudo ./enflame-xxx.run")
    params = sorted(host_path for host_path in sh.fs.listdir("/sys/module/enflame/parameters"))
    each = [ok(sh, f"cat /sys/module/enflame/parameters/{p}") for p in params]
    assert len(params) > 3 and ok(sh, "cat /sys/module/enflame/parameters/*") == "".join(each)
    assert ok(sh, "ls /dev/gcu*").split() == ["/dev/gcu0", "/dev/gcu1"]
    assert ok(sh, "cat /sys/module/enflame/parameters/reset_e?able") == each[params.index("reset_enable")]
    r = sh.run("cat /sys/module/enflame/nothing*")
    assert r.status == 1 and "/sys/module/enflame/nothing*: No such file" in r.stderr


@pytest.mark.reqs("DBG-1")
def test_the_kernel_log_files_of_8_5(spec):
    """§8.5: dmesg, /var/log/kern.log (the same lines) and the rotated logs of earlier days,
    which a host started afresh does not have."""
    host, sh = session(spec, "t20-asic")
    ok(sh, "sudo ./enflame-xxx.run")
    assert ok(sh, "cat /var/log/kern.log") == ok(sh, "dmesg") != ""
    r = sh.run("zcat /var/log/kern.log.*.gz")
    assert r.status == 1 and "kern.log.*.gz: No such file or directory" in r.stderr


@pytest.mark.reqs("RPM-1")
def test_power_control_is_the_runtime_pm_switch(spec):
    """§11.1 `cat /sys/bus/pci/devices/xxx/power/control`: `on` until rpm/switch start allows
    runtime PM (`auto`); writing on/auto is that switch, anything else EINVAL (linux-facts)."""
    host, sh = session(spec, "t20-rpm")
    ok(sh, "sudo ./enflame-xxx.run")
    control = "/sys/bus/pci/devices/0000:01:00.0/power/control"
    assert ok(sh, f"cat {control}") == "on\n"
    ok(sh, "echo start > /sys/class/enflame/gcu0/device/rpm/switch")
    assert ok(sh, f"cat {control}") == "auto\n"
    ok(sh, f"echo on > {control}")
    assert ok(sh, "cat /sys/class/enflame/gcu0/device/rpm/switch") == "stop\n"
    r = sh.run(f"echo sometimes > {control}")
    assert r.status == 1 and "Invalid argument" in r.stderr


@pytest.mark.reqs("INST-1", "INST-8", "PARAM-2")
def test_the_peermem_package_loads_its_module(spec):
    """§5 "install the run packages as usual, then rmmod enflame_peermem": the package loads
    the module; §10.3: with openibd down it stays installed until openibd is restarted."""
    host, sh = session(spec, "t20-asic")
    ok(sh, "sudo ./enflame-xxx.run")
    ok(sh, "sudo ./enflame_peer_mem-xxx.run")
    assert "enflame_peermem" in ok(sh, "lsmod | grep enflame")
    assert sh.run("sudo rmmod enflame").status == 1                   # in use by enflame_peermem
    ok(sh, "sudo rmmod enflame_peermem")
    ok(sh, "sudo rmmod enflame")
    host, sh = session(spec, "t20-asic", **{"host.openibd": "failed"})
    ok(sh, "sudo ./enflame-xxx.run")
    assert "could not insert 'enflame_peermem'" in ok(sh, "sudo ./enflame_peer_mem-xxx.run")
    assert "enflame_peermem" not in ok(sh, "lsmod")
    assert sh.run("sudo modprobe enflame_peermem").status == 1
    ok(sh, "/etc/init.d/openibd restart")
    ok(sh, "sudo modprobe enflame_peermem")
    assert "enflame_peermem" in ok(sh, "lsmod")


@pytest.mark.reqs("PROD-9", "INST-2")
def test_guide_3_a_second_install_switches_the_vgcu_mode(spec):
    """§3: write vgcu_num to gcu_test.conf, "then install the run package" (again): the
    module is reloaded and offers the new number of vgcu nodes; not while a container uses one."""
    host, sh = session(spec, "i20-vgcu-time")
    ok(sh, "sudo ./enflame-xxx.run --with-vgcu")
    before = ok(sh, "ls /dev/vgcu*").split()
    ok(sh, "echo 'options enflame \"vgcu_num=4\"' > /etc/modprobe.d/gcu_test.conf")
    ok(sh, "docker run --name c1 --device /dev/vgcu0 ubuntu")
    r = sh.run("sudo ./enflame-xxx.run --with-vgcu")
    assert r.status == 1 and "in use" in r.stderr                    # as rmmod would be
    ok(sh, "docker stop c1")
    ok(sh, "sudo ./enflame-xxx.run --with-vgcu")
    assert ok(sh, "cat /sys/module/enflame/parameters/vgcu_num") == "4\n"
    assert len(ok(sh, "ls /dev/vgcu*").split()) == 4 != len(before)


def test_a_flag_given_twice_with_two_values_is_refused(spec):
    host, sh = session(spec, "t20-vgcu")
    ok(sh, "sudo ./enflame-xxx.run --with-vgcu")
    r = sh.run("docker run --name a --name b --device /dev/vgcu0 ubuntu")
    assert r.status == 2 and "one NAME a line, not a, b" in r.stderr
    assert sh.run("docker run --name a --name a --device /dev/vgcu0 ubuntu").status == 0
