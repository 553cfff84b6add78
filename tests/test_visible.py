"""What a user sees is what conformance compares (docs/conformance.md): the observation read
from the reference host equals the one walked through the protocol's list/read/run alone;
it shows /dev nodes, lsmod and the KMD's threads; a file that should not be there is a
difference; model-only labels are compared only on request; open process names and any
rpm_sleep_delay pass through the live FUSE sysfs."""
from __future__ import annotations

import pytest

from conftest import fuse_mount
from gcu_model.conform.observe import differences, flatten
from gcu_model.reference import visible
from gcu_model.reference.protocol import Server

pytestmark = pytest.mark.reqs("SRIOV-1", "PARAM-6", "STBY-2", "RPM-2", "RPM-5")

SRIOV_SETUP = ["install_base(opt_mode=virt_host, opt_vf_num=2, opt_auto_load=true)"]


def served(spec, config, actions=()):
    server = Server(spec, config)
    for a in actions:
        reply = server.handle({"op": "apply", "action": a})
        assert reply["ok"] and reply["outcome"]["accepted"], reply
    return server


@pytest.mark.parametrize("config, actions", [
    ("t20-asic", []),
    ("t20-asic", ["install_base(opt_mode=asic, opt_vf_num=0, opt_auto_load=true)", "open_pf(card=card0)"]),
    ("s60-sriov-2vf", SRIOV_SETUP),
    ("i20-vgcu-time", ["write_vgcu_num(value=four)", "install_base(opt_mode=vgcu, opt_vf_num=0, opt_auto_load=true)"]),
])
def test_the_walk_through_the_protocol_sees_what_the_host_shows(spec, config, actions):
    server = served(spec, config, actions)
    direct = flatten(server.handle({"op": "observe"}))
    walked = visible.through_surface(server.handle)
    assert direct == walked
    assert all(visible.is_visible(k) for k in direct)             # no model label by default


def test_observation_shows_nodes_modules_and_threads(spec):
    seen = flatten(served(spec, "s60-sriov-2vf", SRIOV_SETUP).handle({"op": "observe"}))
    assert seen["/sys/bus/pci/devices/0000:01:00.0/sriov_numvfs"] == "2\n"
    assert seen["/dev"] == ["gcu0", "gcu1", "gcu2"]                 # the PF's and each VF's node
    assert seen["lsmod"] == ["enflame 0"]
    assert "[gcu_ih_process_work_func/0]" in seen["ps"]


def test_irq_poll_interval_zero_shows_as_no_ih_thread(spec):
    # PARAM-6: irq_poll_interval=0 at load stops gcu_ih_process_work_func; ps shows it
    server = Server(spec, "t20-asic")
    for line in ["sudo ./enflame-xxx.run", "sudo rmmod enflame",
                 "echo 'options enflame \"irq_poll_interval=0\"' >> /etc/modprobe.d/gcu.conf",
                 "sudo modprobe enflame"]:
        assert server.handle({"op": "run", "command": line})["status"] == 0, line
    seen = flatten(server.handle({"op": "observe"}))
    assert seen["ps"] == ["[gcu_poll_task_func/0]", "[gcu_sched_func/0]"]


def test_a_file_that_should_not_exist_is_a_difference(spec):
    before = flatten(served(spec, "t20-asic").handle({"op": "observe"}))
    after = flatten(served(spec, "t20-asic", ["install_base(opt_mode=asic, opt_vf_num=0, opt_auto_load=true)"])
                    .handle({"op": "observe"}))
    diff = differences(before, after)
    assert diff["/sys/module/enflame/version"] == ("(absent)", "1.5.0\n")
    assert diff["/dev"] == ([], ["gcu0"])
    assert differences(after, before)["/sys/module/enflame/version"] == ("1.5.0\n", "(absent)")


def test_model_labels_are_compared_only_when_asked(spec):
    server = served(spec, "t20-asic")
    model = flatten(server.handle({"op": "observe", "model": True}))
    assert model["host.kmd"] == "absent"
    wrong = dict(model, **{"host.kmd": "loaded"})
    assert differences(wrong, model) == {}
    assert differences(wrong, model, model=True) == {"host.kmd": ("loaded", "absent")}
    bad = server.handle({"op": "observe", "model": "yes"})
    assert not bad["ok"] and "model" in bad["error"]


def test_whitelists_take_any_process_name(spec):
    # STBY-2, RPM-5: the guide's own add:name0, and any name a user runs
    server = served(spec, "i20-asic", ["install_base(opt_mode=asic, opt_vf_num=0, opt_auto_load=true)"])
    for path in ("/sys/class/enflame/gcu0/device/standby/whitelist", "/sys/class/enflame/gcu0/device/rpm/whitelist"):
        for text in ("add:name0", "add:any-name", "add:efvs", "add:mytool", "delete:any-name"):
            assert server.handle({"op": "write", "path": path, "text": text + "\n"})["result"] == {"accepted": True}
        assert server.handle({"op": "read", "path": path})["result"]["text"] == "name0\nefvs\nmytool\n"
        refused = server.handle({"op": "write", "path": path, "text": "delete:any-name\n"})["result"]
        assert refused["errno"] == "EINVAL" and "any-name is not on the whitelist" in refused["message"]
        for bad in ("add:two words", "add:a:b", "add:" + "x" * 256):
            assert server.handle({"op": "write", "path": path, "text": bad})["result"]["errno"] == "EINVAL"
    # a name no action text could carry (a comma) goes through the file as it is
    path = "/sys/class/enflame/gcu0/device/rpm/whitelist"
    assert server.handle({"op": "write", "path": path, "text": "add:a,b=c\n"})["result"] == {"accepted": True}
    assert server.handle({"op": "read", "path": path})["result"]["text"].endswith("a,b=c\n")
    # the model keeps `other` for every name it leaves unnamed; deleting the last one clears it
    state = server.handle({"op": "observe", "model": True})["state"]
    assert sorted(state["card0.standby_whitelist"]) == ["efvs", "other"]
    for text in ("delete:name0", "delete:mytool"):
        server.handle({"op": "write", "path": "/sys/class/enflame/gcu0/device/standby/whitelist", "text": text})
    assert server.handle({"op": "observe", "model": True})["state"]["card0.standby_whitelist"] == ["efvs"]


def test_open_names_are_emptied_with_the_rest_on_rmmod(spec):
    server = served(spec, "i20-asic", ["install_base(opt_mode=asic, opt_vf_num=0, opt_auto_load=true)",
                                       "write_standby_whitelist(card=card0, op=add, name=some-tool)"])
    assert server.handle({"op": "apply", "action": "rmmod()"})["outcome"]["accepted"]
    assert server.handle({"op": "apply", "action": "modprobe(conf=gcu_conf)"})["outcome"]["accepted"]
    path = "/sys/class/enflame/gcu0/device/standby/whitelist"
    assert server.handle({"op": "read", "path": path})["result"]["text"] == ""


def test_any_holder_count_is_taken(spec):
    # an exploration bound (max_opens) never reaches the reference host
    server = served(spec, "t20-asic", ["install_base(opt_mode=asic, opt_vf_num=0, opt_auto_load=true)"])
    for _ in range(20):
        assert server.handle({"op": "apply", "action": "open_pf(card=card0)"})["outcome"]["accepted"]
    assert flatten(server.handle({"op": "observe"}))["lsmod"] == ["enflame 20"]


def test_fuse_sysfs_takes_any_whitelist_name_and_sleep_delay(tmp_path):
    with fuse_mount(tmp_path / "host", "--config", "i20-asic") as root:
        (root / "gcu-model" / "run").write_text("sudo ./enflame-xxx.run\n")
        assert (root / "gcu-model" / "run").read_text().startswith("0\n")
        device = root / "sys/class/enflame/gcu0/device"
        for name in ("standby/whitelist", "rpm/whitelist"):
            (device / name).write_text("add:any-name\n")
            (device / name).write_text("add:efvs\n")
            assert (device / name).read_text() == "any-name\nefvs\n"
        (device / "rpm/rpm_sleep_delay").write_text("2500\n")
        assert (device / "rpm/rpm_sleep_delay").read_text() == "2500\n"
        with pytest.raises(OSError) as bad:
            (device / "rpm/whitelist").write_text("delete:never-added\n")
        assert bad.value.errno == 22                                     # EINVAL
        assert sorted(p.name for p in (root / "dev").iterdir()) == ["gcu0"]
