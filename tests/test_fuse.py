"""The reference host served over FUSE (issue 5): plain cat and echo on the mount, and a
refused write fails with the spec's errno through the kernel, as on a real host."""
from __future__ import annotations

import os
import subprocess

import pytest

from conftest import fuse_mount


@pytest.fixture
def mount(tmp_path):
    with fuse_mount(tmp_path / "host", "--config", "t20-reset") as point:
        yield point


def sh(command):
    # bash, not dash: dash's echo reports every write error as "I/O error"
    return subprocess.run(["bash", "-c", command], capture_output=True, text=True, timeout=30)


@pytest.mark.reqs("PARAM-4", "RST-9", "RST-8")
def test_cat_and_echo_on_the_mount(mount):
    run = mount / "gcu-model" / "run"
    assert sh(f"echo 'sudo ./enflame-xxx.run' > {run}").returncode == 0
    assert sh(f"cat {run}").stdout.startswith("0\nenflame: driver installed")
    driver = mount / "sys/bus/pci/drivers/enflame/reset_enable"
    assert sh(f"cat {driver}").stdout == "0xffffffff\n"
    assert sh(f"echo 0 > {driver}").returncode == 0
    assert sh(f"cat {driver}").stdout == "0x0\n"
    refused = sh(f"echo 1 > {mount}/sys/class/enflame/gcu0/device/gcu_reload")
    assert refused.returncode != 0 and "Operation not permitted" in refused.stderr        # EPERM (RST-9)
    bad = sh(f"echo 7 > {driver}")
    assert bad.returncode != 0 and "Invalid argument" in bad.stderr                       # EINVAL
    missing = sh(f"cat {mount}/sys/module/enflame/nothing")
    assert missing.returncode != 0 and "No such file or directory" in missing.stderr
    with pytest.raises(PermissionError):
        (mount / "sys" / "new").mkdir()
    assert sorted(os.listdir(mount / "sys/bus/pci/devices")) == ["0000:01:00.0"]
    mode = os.stat(mount / "sys/bus/pci/devices/0000:01:00.0/vendor").st_mode
    assert mode & 0o444 and not mode & 0o222                                              # read-only file


@pytest.mark.reqs("STBY-2", "RPM-5", "RPM-2")
def test_any_process_name_and_any_sleep_delay_through_the_mount(tmp_path):
    """Open domains (issue 16): the guide's whitelists take any process name and
    rpm_sleep_delay any number of ms; the names the exploration uses (efvs, app) are only
    representatives, so a name outside them is kept and read back as written."""
    with fuse_mount(tmp_path / "host", "--config", "t20-rpm") as point:
        assert sh(f"echo 'sudo ./enflame-xxx.run' > {point}/gcu-model/run").returncode == 0
        device = point / "sys/class/enflame/gcu0/device"
        for folder in ("rpm", "standby"):
            wl = device / folder / "whitelist"
            for name in ("any-name", "efsmi", "name0"):
                r = sh(f"echo add:{name} > {wl}")
                assert r.returncode == 0, (folder, name, r.stderr)
            assert sh(f"cat {wl}").stdout == "any-name\nefsmi\nname0\n", folder
            assert sh(f"echo delete:efsmi > {wl}").returncode == 0
            assert sh(f"cat {wl}").stdout == "any-name\nname0\n", folder
            bad = sh(f"echo remove:any-name > {wl}")
            assert bad.returncode != 0 and "Invalid argument" in bad.stderr
        delay = device / "rpm/rpm_sleep_delay"
        assert sh(f"cat {delay}").stdout == "10000\n"
        assert sh(f"echo 2345 > {delay}").returncode == 0
        assert sh(f"cat {delay}").stdout == "2345\n"
