"""The reference host (issue 5): the guide's own sequences through sysfs and the spec's
actions, the texts and errno a user sees, and arbitrary writes that never break it."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gcu_model.reference.host import ReferenceHost
from gcu_model.reference.shell import Shell
from gcu_model.reference.sysfs import Sysfs, SysfsError
from gcu_model.shell.commands import parse

PF = "/sys/bus/pci/devices/0000:01:00.0"
DRIVER = "/sys/bus/pci/drivers/enflame"


def boot(spec, config, *commands, initial=None):
    host = ReferenceHost(spec, config, initial)
    for line in commands:
        step = host.apply(parse(line, spec).action)
        assert step.accepted, (line, step.outcome)
    return host, Sysfs(host)


def refused(fs, path, text, errno):
    with pytest.raises(SysfsError) as info:
        fs.write(path, text)
    assert info.value.errno == errno, info.value


@pytest.mark.reqs("PARAM-4", "RST-9")
def test_guide_11_3_reset_enable_off_and_back(spec):
    host, fs = boot(spec, "t20-reset", "sudo ./enflame-xxx.run")
    saved = fs.read(f"{DRIVER}/reset_enable")
    assert saved == "0xffffffff\n"                                   # all f by default
    fs.write(f"{DRIVER}/reset_enable", "0\n")
    assert fs.read(f"{DRIVER}/reset_enable") == "0x0\n"
    refused(fs, "/sys/class/enflame/gcu0/device/gcu_reload", "1", "EPERM")      # no reset now
    fs.write(f"{DRIVER}/reset_enable", saved)
    fs.write("/sys/class/enflame/gcu0/device/gcu_reload", "1")                  # §11.2: a hot reset
    assert host.value("card0.reset") == "hot"
    refused(fs, f"{DRIVER}/reset_enable", "7", "EINVAL")
    refused(fs, f"{DRIVER}/reset_enable", "08", "EINVAL")                       # kstrtouint: no octal 8
    host.wait_out("reset_completes")
    fs.write(f"{DRIVER}/reset_enable", "0")
    fs.write(f"{DRIVER}/reset_enable", "037777777777")                          # base 0: octal all-f
    assert fs.read(f"{DRIVER}/reset_enable") == "0xffffffff\n"
    fs.write("/sys/bus/pci/rescan", "007")                                       # 7: ignored, as Linux does


def test_a_sysfs_write_is_the_action_surface_yaml_says_without_a_host(spec):
    """`echo TEXT > PATH` in a set-up (solve) reads as surface.yaml's action for that file, a
    card named by its PCI address, and prints back the same way (one table both ways)."""
    from gcu_model.shell.commands import CommandError, render
    line = "echo 4 > /sys/bus/pci/devices/0000:02:00.0/sriov_numvfs"
    assert parse(line, spec).action == "write_sriov_numvfs(card=card1, n=4)"
    assert render("write_sriov_numvfs(card=card1, n=4)", spec) == line
    assert parse("echo 0 > /sys/bus/pci/drivers/enflame/reset_enable", spec).action == "write_reset_enable(value=zero)"
    assert render("write_reset_enable(value=allf)", spec) == "echo 0xffffffff > /sys/bus/pci/drivers/enflame/reset_enable"
    assert parse("echo 1 >> /sys/bus/pci/rescan", spec).action == "pci_rescan()"
    assert parse("echo 0 > /sys/bus/pci/rescan", spec).actions == ()           # Linux ignores it
    for bad, why in (("echo 5 > /sys/bus/pci/drivers/enflame/reset_enable", "takes 0xffffffff or 0, not 5"),
                     ("echo 1 > /sys/bus/pci/devices/card0/reset", "not the PCI address"),
                     ("echo x > /sys/bus/pci/devices/0000:01:00.0/sriov_numvfs", "'x' is not a number"),
                     ("echo 2 > /sys/bus/pci/devices/0000:01:00.2/sriov_numvfs", "not the PCI address of a GCU card")):
        with pytest.raises(CommandError, match=why):
            parse(bad, spec)


@pytest.mark.reqs("PARAM-2", "PARAM-3", "UNLD-2")
def test_guide_5_reload_with_new_parameters(spec):
    host, fs = boot(spec, "t20-asic", "sudo ./enflame-xxx.run", "sudo ./enflame_peer_mem-xxx.run",
                    "sudo modprobe enflame_peermem")
    assert fs.read("/sys/module/enflame/parameters/reset_enable") == "4294967295\n"
    assert not host.apply("rmmod()").accepted                       # enflame_peermem uses it (§10.2)
    for line in ["sudo rmmod enflame_peermem", "sudo rmmod enflame", "cp -f /etc/modprobe.d/gcu.conf ./gcu_test.conf",
                 "echo 'options enflame \"reset_enable=0\"' >> gcu_test.conf", "sudo modprobe enflame -C ./gcu_test.conf"]:
        assert host.apply(parse(line, spec).action).accepted, line
    assert fs.read("/sys/module/enflame/parameters/reset_enable") == "0\n"
    refused(fs, "/sys/module/enflame/parameters/reset_enable", "1", "EACCES")    # read-only parameter
    host.apply("rmmod()")
    assert not fs.exists("/sys/module/enflame")


@pytest.mark.reqs("SRIOV-1", "SRIOV-6", "SRIOV-7", "SRIOV-3", "UNLD-4")
def test_guide_9_4_sriov_numvfs_and_vfio(spec):
    host, fs = boot(spec, "s60-sriov-4vf", "sudo ./enflame-xxx.run --virt-host --vf-num 4")
    assert fs.read(f"{PF}/sriov_totalvfs") == "4\n" and fs.read(f"{PF}/sriov_numvfs") == "4\n"
    refused(fs, f"{PF}/sriov_numvfs", "2", "EBUSY")                  # through 0 first
    refused(fs, f"{PF}/sriov_numvfs", "eight", "EINVAL")
    refused(fs, f"{PF}/sriov_numvfs", "8", "ERANGE")
    fs.write(f"{PF}/sriov_numvfs", "0")
    fs.write(f"{PF}/sriov_numvfs", "2")
    assert sorted(fs.listdir("/sys/bus/pci/devices")) == ["0000:01:00.0", "0000:01:00.1", "0000:01:00.2"]
    refused(fs, "/sys/bus/pci/drivers/vfio-pci/bind", "0000:01:00.0", "EPERM")   # the PF never goes to a VM
    fs.write("/sys/bus/pci/drivers/vfio-pci/bind", "0000:01:00.1")
    assert host.apply("start_vm_vf(vm=vm0, vf=card0.vf0)").accepted
    refused(fs, f"{PF}/sriov_numvfs", "0", "EBUSY")                  # a VM holds a VF
    assert not host.apply("rmmod()").accepted
    refused(fs, "/sys/bus/pci/drivers/vfio-pci/bind", "0000:01:00.7", "ENODEV")
    assert host.check_invariants() == []


@pytest.mark.reqs("STBY-1", "STBY-2", "STBY-3")
def test_guide_8_7_standby_example(spec):
    host, fs = boot(spec, "i20-asic", "sudo ./enflame-xxx.run")
    dev = "/sys/class/enflame/gcu0/device/standby"
    fs.write(f"{dev}/whitelist", "add:efvs")
    fs.write(f"{dev}/disable_ioctl", "1")
    assert fs.read(f"{dev}/disable_ioctl") == "1\n" and fs.read(f"{dev}/whitelist") == "efvs\n"
    assert host.apply("gcu_ioctl(card=card0, caller=efvs)").accepted
    step = host.apply("gcu_ioctl(card=card0, caller=app)")
    assert not step.accepted and step.outcome.errno == "EPERM"
    refused(fs, f"{dev}/disable_ioctl", "2", "EINVAL")
    refused(fs, f"{dev}/whitelist", "add efvs", "EINVAL")


@pytest.mark.reqs("RPM-1", "RPM-2", "RPM-3", "RPM-4", "RPM-5")
def test_guide_8_9_runtime_pm_with_the_clock(spec):
    host, fs = boot(spec, "t20-rpm", "sudo ./enflame-xxx.run")
    rpm = "/sys/class/enflame/gcu0/device/rpm"
    assert fs.read(f"{rpm}/rpm_sleep_delay") == "10000\n"
    fs.write(f"{rpm}/switch", "start")
    host.advance(9999)
    assert fs.read(f"{rpm}/status") == "active\n"
    host.advance(1)
    assert fs.read(f"{rpm}/status") == "suspended\n"                 # idle for rpm_sleep_delay ms
    assert host.apply("open_pf(card=card0)").accepted
    assert fs.read(f"{rpm}/status") == "active\n" and fs.read(f"{rpm}/usage_count") == "1\n"
    assert fs.read(f"{rpm}/wakeup_count") == "1\n"
    refused(fs, f"{rpm}/switch", "go", "EINVAL")


@pytest.mark.reqs("RST-7", "RST-8", "VER-4")
def test_guide_11_1_remove_and_rescan(spec):
    host, fs = boot(spec, "t20-reset", "sudo ./enflame-xxx.run")
    fs.write(f"{PF}/remove", "1")
    assert not fs.exists(PF) and fs.listdir("/sys/class/enflame") == []
    fs.write("/sys/bus/pci/rescan", "1")
    assert fs.exists(f"{PF}/device_id") and fs.listdir("/sys/class/enflame") == ["gcu0"]


@pytest.mark.reqs("FW-2", "PROD-1", "VER-1", "VER-2", "VER-3")
def test_identity_versions_and_secured_ranges(spec):
    host, fs = boot(spec, "i20-firewall", "sudo ./enflame-xxx.run", initial={"card0.fw": "on"})
    assert fs.read(f"{PF}/vendor") == f"0x{spec.device['pci_vendor']:04x}\n"
    assert fs.read(f"{PF}/device") == "0x8001\n"
    assert fs.read("/sys/module/enflame/version") == spec.device["kmd_version"] + "\n"
    assert fs.read("/sys/module/enflame/drivers/pci:enflame/gcu_ioctl_version") == spec.device["ioctl_version"] + "\n"
    assert "ssm: " in fs.read("/sys/class/enflame/gcu0/device/fw_informations")
    dump = fs.read("/sys/kernel/debug/enflame/0/dump/dump_reg_group").splitlines()
    assert dump == [f"secured 0x{lo:08x}-0x{hi:08x}" for lo, hi in spec.bits["secured_ranges"]["I20"]]


def test_paths_that_are_not_files(spec):
    host, fs = boot(spec, "t20-asic")
    for path, errno in [("/sys/module/enflame/version", "ENOENT"), ("/sys/bus/pci", "EISDIR"),
                        ("/proc/cpuinfo", "ENOENT")]:
        with pytest.raises(SysfsError) as info:
            fs.read(path)
        assert info.value.errno == errno
    refused(fs, "/sys/bus/pci/rescan", "yes", "EINVAL")


# ---------------------------------------------------------------- arbitrary input never breaks it
TEXTS = ["0", "1", "2", "4", "8", "0x0", "0xffffffff", "start", "stop", "add:efvs", "delete:efvs", "add:app",
         "0000:01:00.0", "0000:01:00.1", "0000:02:00.0", "", "\n", "-1", "99999999999", "abc", "add:", "1 2"]
CONFIGS = ["s60-reset", "i20-asic", "t20-rpm", "s60-rpm", "i20-firewall", "t20-2card", "i20-mdev", "t20-reset"]
COMMANDS = ["sudo ./enflame-xxx.run", "sudo ./enflame-xxx.run --virt-host", "sudo ./enflame-xxx.run --uninstall",
            "sudo rmmod enflame", "sudo modprobe enflame", "lsmod | grep enflame", "lspci -nD", "dmesg",
            "efsmi -r -i 0", "efsmi -r hot -i 0", "efsmi -pf -r", "GcuSriovMgr --bind", "GcuSriovMgr --unbind",
            "GcuSriovMgr --slot 01:00.0 --vf-num 2", "docker run --name c --device /dev/gcu0 ubuntu",
            "docker stop c", "qemu-system-x86_64 -device vfio-pci,host=0000:01:00.1", "[vm0] ./app &",
            "[vm0] efsmi -r", "[vm0] poweroff", "cat /sys/bus/pci/drivers/enflame/reset_enable",
            "echo 0 > /sys/bus/pci/drivers/enflame/reset_enable", "echo 1 > /sys/bus/pci/rescan", "sudo reboot",
            "sudo ./enflame-xxx.run --mdev-host", "sudo ./enflame_virt-xxx.run",
            "qemu-system-x86_64 -device vfio-pci,sysfsdev=/sys/bus/mdev/devices/00000000-0000-4000-8000-000000000001",
            "pcimem /sys/bus/pci/devices/0000:01:00.0/resource0 0x1000 w 0x5",
            "pcimem /sys/bus/pci/devices/0000:01:00.0/resource0 0x2000",
            "echo 0000:01:00.0 > /sys/bus/pci/drivers/enflame/unbind",
            "echo 0000:01:00.0 > /sys/bus/pci/drivers/enflame/bind",
            "echo 0000:01:00.0 > /sys/bus/pci/drivers/vfio-pci/bind",
            "qemu-system-x86_64 -device vfio-pci,host=0000:01:00.0", "[vm0] efsmi -r hot",
            "[vm0] pcimem /sys/bus/pci/devices/0000:00:05.0/resource0 0x10 w 1",
            "cp caps/qemu/qirk-config-sample.conf /etc/qemu-quirks/enflame/0000:01:00.0.conf",
            "sed -i 's/logging = 0/logging = 1/' /etc/qemu-quirks/enflame/0000:01:00.0.conf",
            "echo 'options enflame \"enable_ssm_rt_fw=0,reset_enable=0\"' >> /etc/modprobe.d/gcu.conf",
            "grep enable /sys/module/enflame/parameters/enable_ssm_rt_fw"]


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(config=st.sampled_from(CONFIGS), data=st.data())
def test_ten_thousand_arbitrary_writes_never_break_the_host(spec, config, data):
    """200 examples x 50 steps: sysfs writes of chosen and random text, reads, command lines
    (the guide's and random ones), spec actions and time passing. Nothing raises but
    SysfsError; every invariant holds after each step."""
    host = ReferenceHost(spec, config)
    fs = Sysfs(host)
    shell = Shell(host, fs)
    actions = [str(ga.action) for ga in host.system.actions]
    for _ in range(50):
        kind = data.draw(st.sampled_from(["write", "write", "read", "action", "time", "command"]))
        if kind == "action":
            host.apply(data.draw(st.sampled_from(actions)))
        elif kind == "command":
            result = shell.run(data.draw(st.sampled_from(COMMANDS) | st.text(max_size=20)))
            assert result.status in (0, 1, 2, 125, 127) and isinstance(result.stdout, str)
        elif kind == "time":
            host.advance(data.draw(st.integers(0, 20000)))
        else:
            path = data.draw(st.sampled_from(fs.files()))
            try:
                if kind == "read":
                    assert fs.read(path).endswith("\n") or fs.read(path) == ""
                else:
                    fs.write(path, data.draw(st.sampled_from(TEXTS) | st.text(max_size=12)))
            except SysfsError as exc:
                assert exc.errno.startswith("E")
        assert host.check_invariants() == [], host.history[-1:]


# ---------------------------------------------------------------- the protocol
def test_serve_stdio_protocol():
    lines = [{"op": "hello"}, {"op": "read", "path": "/sys"}, "not json", {"op": "jump"}, {"op": "reset"},
             {"op": "reset", "config": "t20-asic", "id": 7},
             {"op": "apply", "action": "install_base(opt_mode=asic, opt_vf_num=0, opt_auto_load=true)"},
             {"op": "write", "path": f"{DRIVER}/reset_enable", "text": "0"},
             {"op": "read", "path": "/sys/module/enflame/parameters/reset_enable"},
             {"op": "write", "path": "/sys/module/enflame/version", "text": "2"},
             {"op": "apply", "action": "no_such_action()"}, {"op": "observe", "model": True}, {"op": "bye"}]
    text = "\n".join(json.dumps(x) if isinstance(x, dict) else x for x in lines) + "\n"
    result = subprocess.run([sys.executable, "-m", "gcu_model", "serve", "--stdio"], input=text,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    out = [json.loads(x) for x in result.stdout.splitlines()]
    assert len(out) == len(lines)
    assert out[0]["ok"] and out[0]["protocol"] == 2
    assert not out[1]["ok"] and "reset" in out[1]["error"]          # no configuration yet
    assert not out[2]["ok"] and "not JSON" in out[2]["error"]
    assert not out[3]["ok"] and "unknown op" in out[3]["error"]
    assert not out[4]["ok"] and "missing field 'config'" in out[4]["error"]
    assert out[5] == {"id": 7, "ok": True, "config": "t20-asic"}
    assert out[6]["outcome"]["accepted"]
    assert out[7]["result"] == {"accepted": True}
    assert out[8]["result"]["text"] == "0\n"
    assert out[9]["result"]["errno"] == "EACCES"
    assert not out[10]["ok"]
    assert out[11]["state"]["host.kmd"] == "loaded" and out[11]["visible"]["lsmod"] == ["enflame 0"]
    assert out[12]["bye"]


def test_protocol_run_op_types_a_command_line(spec):
    from gcu_model.reference.protocol import Server
    server = Server(spec, "t20-asic")
    r = server.handle({"op": "run", "command": "sudo ./enflame-xxx.run && lsmod | grep enflame"})
    assert r["ok"] and r["status"] == 0 and r["stdout"].splitlines()[-1].startswith("enflame")
    r = server.handle({"op": "run", "command": "sudo rmmod enflame_peermem"})
    assert r["ok"] and r["status"] == 1 and "not currently loaded" in r["stderr"]
    assert server.handle({"op": "run"}) == {"ok": False, "error": "missing field 'command'"}
    assert not server.handle({"op": "advance", "ms": -5})["ok"]
    assert not server.handle({"op": "reset", "config": "t20-asic", "initial": {"card0.fw": "purple"}})["ok"]


@pytest.mark.reqs("SRIOV-4", "RST-5", "RST-6")
def test_ras_by_named_ip_block(spec):
    host, fs = boot(spec, "s60-reset", "sudo ./enflame-xxx.run --virt-host")
    step = host.ras("SDTE", "card0.vf0")                      # VF-only: that VF's FLR alone
    assert step.action == "ras_vf_only(vf=card0.vf0)" and host.value("card0.reset") == "vf_flr"
    host.wait_out("reset_completes")
    assert host.device.cards[0].fw_reloads == 0
    step = host.ras("MIH", "card0.vf1")                        # VF-shared: reported to the PF, PF FLR
    assert step.action == "ras_card(card=card0, ip=vf_shared)" and "SP paused" in step.log[0]
    host.wait_out("reset_completes")
    assert host.value("card0.reset") == "idle" and host.device.cards[0].fw_reloads == 1
    assert host.ras("NoC", "card0").action == "ras_card(card=card0, ip=pf_only)"
    for ip, device in [("SIP", "card0"), ("Flux", "card0"), ("MIH", "card9")]:
        with pytest.raises(Exception) as info:
            host.ras(ip, device)
        assert type(info.value).__name__ == "HostError"
    from gcu_model.reference.protocol import Server
    server = Server(spec, "s60-reset")
    server.handle({"op": "run", "command": "sudo ./enflame-xxx.run --virt-host"})
    reply = server.handle({"op": "ras", "ip": "L3", "device": "card0.vf1"})
    assert reply["ok"] and reply["outcome"]["accepted"]
    assert not server.handle({"op": "ras", "ip": "Flux", "device": "card0"})["ok"]


@pytest.mark.reqs("RPM-1")
def test_every_vf_has_its_own_rpm_switch(spec):
    host, fs = boot(spec, "s60-rpm", "sudo ./enflame-xxx.run --virt-host")
    assert fs.listdir("/sys/class/enflame") == ["gcu0", "gcu1", "gcu2"]
    fs.write("/sys/class/enflame/gcu0/device/rpm/switch", "start")
    fs.write("/sys/class/enflame/gcu1/device/rpm/switch", "start")
    host.advance(20000)
    assert fs.read("/sys/class/enflame/gcu0/device/rpm/status") == "active\n"     # gcu2's switch is still stop
    fs.write("/sys/class/enflame/gcu2/device/rpm/switch", "start")
    assert fs.read("/sys/class/enflame/gcu2/device/rpm/switch") == "start\n"
    host.advance(10000)
    assert fs.read("/sys/class/enflame/gcu0/device/rpm/status") == "suspended\n"
    refused(fs, "/sys/class/enflame/gcu2/device/rpm/switch", "on", "EINVAL")
    fs.write("/sys/bus/pci/drivers/vfio-pci/bind", "0000:01:00.1")                 # handed to vfio: no node
    assert fs.listdir("/sys/class/enflame") == ["gcu0", "gcu2"]


def test_driver_override_records_the_name(spec):
    host, fs = boot(spec, "t20-asic", "sudo ./enflame-xxx.run")
    assert fs.read(f"{PF}/driver_override") == "(null)\n"
    fs.write(f"{PF}/driver_override", "vfio-pci\n")
    assert fs.read(f"{PF}/driver_override") == "vfio-pci\n"
    assert host.value("card0.binding") == "enflame"          # only the bind that follows decides
    refused(fs, f"{PF}/driver_override", "vfio pci", "EINVAL")
    fs.write(f"{PF}/driver_override", "\n")
    assert fs.read(f"{PF}/driver_override") == "(null)\n"


@pytest.mark.reqs("SRIOV-3", "UNLD-4")
def test_a_device_name_written_is_the_action_surface_yaml_declares(spec):
    """vfio-pci/bind of a card's exact address is bind_pf_vfio (surface.yaml `parse: instance`,
    the case of PF); an address no device present has, the short form, garbage: ENODEV."""
    host, fs = boot(spec, "t20-asic", "sudo ./enflame-xxx.run")
    fs.write("/sys/bus/pci/drivers/vfio-pci/bind", "0000:01:00.0\n")
    assert host.history[-1].action == "bind_pf_vfio(card=card0)" and host.value("card0.binding") == "vfio"
    for text in ("0000:07:00.0", "01:00.0", "card0", "0000:01:00.1", ""):
        with pytest.raises(SysfsError) as info:
            fs.write("/sys/bus/pci/drivers/vfio-pci/unbind", text)
        assert info.value.errno == "ENODEV" and "No such device" in info.value.message, (text, info.value)
    fs.write("/sys/bus/pci/drivers/vfio-pci/unbind", "0000:01:00.0")
    assert host.history[-1].action == "unbind_pf_vfio(card=card0)"


@pytest.mark.reqs("RPM-2")
def test_rpm_sleep_delay_is_custom_unless_the_default(spec):
    """surface.yaml maps 10000 ms to custom=false and any other delay (otherwise:) to true;
    the device model keeps the ms; the line of custom=true writes the sample 5000 ms."""
    from gcu_model.reference.device import sleep_delays
    assert sleep_delays(spec) == (10000, 5000)          # what the device model starts from and samples
    host, fs = boot(spec, "t20-rpm", "sudo ./enflame-xxx.run")
    rpm = "/sys/class/enflame/gcu0/device/rpm/rpm_sleep_delay"
    for text, custom, shown in (("2500", "true", "2500"), ("0x2710", "false", "10000"), ("07", "true", "7")):
        fs.write(rpm, text + "\n")
        assert host.history[-1].action == f"write_rpm_sleep_delay(card=card0, custom={custom})"
        assert fs.read(rpm) == shown + "\n"
    refused(fs, rpm, "08", "EINVAL")
    assert fs.write_line("write_rpm_sleep_delay", {"card": "card0", "custom": "true"}) == f"echo 5000 > {rpm}"
    assert fs.write_line("write_rpm_sleep_delay", {"card": "card0", "custom": "false"}) == f"echo 10000 > {rpm}"
