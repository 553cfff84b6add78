"""Every action of every configuration, written back as a runbook line in the context of
a playing host, plays back as exactly that action (issue 7): the fixes `gcu-model lint`
and `gcu-model plan` print are lines the reference host (and an operator) can run."""
from __future__ import annotations

import pytest

from conftest import embedded_config_names
from gcu_model.conform import default_suite_dir
from gcu_model.conform.suite import load_suite
from gcu_model.core.outcome import Accepted, action_name
from gcu_model.runbook.parse import parse_runbook
from gcu_model.runbook.play import Player
from gcu_model.runbook.render import render


def _sample(cases, every=6) -> list:
    """Every case with an action no earlier chosen case has, and every `every`-th case: each
    action of the suite is rendered, at a fraction of the cost of every case."""
    seen, out = set(), []
    for k, case in enumerate(cases):
        names = {action_name(step.action) for step in case.steps}
        if k % every == 0 or names - seen:
            out.append(case)
            seen |= names
    return out


@pytest.mark.parametrize("config", embedded_config_names())
def test_rendered_lines_play_back_as_their_action(spec, config):
    suite = load_suite(default_suite_dir() / f"{config}.json")
    rendered, direct = set(), set()
    for case in _sample(suite.cases):
        player = Player(spec, config, case.choose)
        for step in case.steps:
            action = step.action
            line = render(action, player)
            if line is None:
                direct.add(action_name(action))
                player.host.apply(action)
                continue
            model = player.host.system.step(player.host.state, action)
            played = player.play(parse_runbook(line).lines[0])
            if not played.steps:
                # nothing reached the model (a sysfs file that does not exist there, time passing
                # with no reset running): right only when the model refuses it too
                assert not isinstance(model, Accepted), (case.id, action, line)
                assert played.status != 0 or line.startswith("# @wait"), (case.id, action, line)
                continue
            assert played.steps[0].action == action, (case.id, line, played.steps[0].action)
            assert played.steps[0].accepted == isinstance(model, Accepted), (case.id, line)
            rendered.add(action_name(action))
    # the actions with no command form are few and named here
    assert direct <= {"ras_card", "ras_vf_only", "gcu_ioctl", "client_ioctl", "docker_run_mdev", "reset_completes", "close_pf", "close_vf",
                      "tool_close", "docker_stop", "open_pf", "open_vf", "tool_open", "efsmi_hot_reset",
                      "efsmi_pf_flr", "efsmi_vf_flr", "rpm_switch", "rpm_switch_vf", "write_rpm_sleep_delay",
                      "write_rpm_whitelist", "write_standby_whitelist", "write_disable_ioctl",
                      "write_suspend_thread", "write_power_stock", "docker_run_gcu", "docker_run_vf",
                      "start_vm_mdev", "read_register", "write_register",
                      "write_sriov_numvfs",       # sriov_numvfs: a file a T20 does not have
                      "bind_vf_vfio", "unbind_vf_vfio", "start_vm_vf",   # a VF not enabled has no address
                      "docker_run_vgcu",          # no /dev/vgcuN before the KMD is loaded (issue 17)
                      "bind_pf_vfio", "pci_flr", "pci_remove", "write_qemu_acl",   # a removed card has no address
                      "rpm_idle_timeout"}, direct   # no idle timer running: time cannot bring it
    assert rendered
