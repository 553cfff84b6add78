"""Every invariant can fail: a planted bug in a copy of the spec makes the explorer report
it, with a path that replays and that no shorter path beats (issue 3, Done when).

Each row: the invariant, the configuration, and one textual edit of one spec file (the
bug). A row breaks loudly when the spec text it edits moves (conftest.edit).
"""
from __future__ import annotations

import networkx as nx
import pytest

from conftest import edit
from gcu_model.core.system import System
from gcu_model.explore.explorer import explore, replay
from gcu_model.spec.loader import load_spec

PLANTED = {
    # kmd.yaml
    "built_with_headers": ("t20-asic", "machines/kmd.yaml",
                           "    - require: headers\n", "    - require: headers or True\n"),
    "no_unsigned_module_under_enforcement": ("t20-asic", "machines/kmd.yaml",
                                             "      - require: not sig_enforced or signed\n        errno: EKEYREJECTED",
                                             "      - require: True\n        errno: EKEYREJECTED"),
    "no_open_device_without_driver": ("t20-asic", "machines/kmd.yaml",
                                      "    - require: all(c.opens == 0 and c.vgcu_used == 0 for c in card) and all(v.opens == 0 for v in vf)",
                                      "    - require: all(c.vgcu_used == 0 for c in card)"),
    "dependents_need_enflame": ("t20-asic", "machines/kmd.yaml",
                                "    - require: host.peermem != 'loaded'", "    - require: True"),
    "vf_num_only_in_virt_host": ("t20-asic", "machines/kmd.yaml",
                                 "    vf_num = (opt_vf_num if opt_vf_num != 0 else default_vf_num) if opt_mode == 'virt_host' else 0",
                                 "    vf_num = opt_vf_num if opt_vf_num != 0 else default_vf_num"),
    # peermem.yaml, virtpkg.yaml
    "peermem_needs_openibd": ("t20-asic", "machines/peermem.yaml",
                              "      - require: openibd == 'healthy'", "      - require: True"),
    "virt_only_on_mdev_host": ("t20-asic", "machines/virtpkg.yaml",
                               "      - require: host.mode == 'mdev_host'", "      - require: True"),
    # pf.yaml
    "vf_count_matches_numvfs": ("s60-sriov-4vf", "machines/pf.yaml",
                                "            if v.card == self and v.index < n:", "            if v.card == self and v.index < 1:"),
    "vf_count_supported_by_part": ("s60-sriov-4vf", "machines/pf.yaml",
                                   "      - require: n in vf_modes", "      - require: True"),
    "vfs_only_under_sriov_kmd": ("s60-sriov-4vf", "machines/kmd.yaml",
                                 "            v.binding = 'absent'\n            v.opens = 0\n            v.fault = False\n            v.rpm_vf_on",
                                 "            v.binding = v.binding\n            v.opens = 0\n            v.fault = False\n            v.rpm_vf_on"),
    "no_workload_on_sriov_pf": ("s60-sriov-4vf", "machines/pf.yaml",
                                "      - require: not sriov_pf\n        errno: ENODEV",
                                "      - require: True\n        errno: ENODEV"),
    "pf_never_passed_through_on_sriov_host": ("s60-sriov-4vf", "machines/pf.yaml",
                                              "      - require: not sriov_pf\n        errno: EPERM",
                                              "      - require: True\n        errno: EPERM"),
    "open_pf_only_bound_to_enflame": ("t20-asic", "machines/pf.yaml",
                                      "is EPERM.\"\n      - require: opens == 0 and vgcu_used == 0 and mdev_used == 0",
                                      "is EPERM.\"\n      - require: vgcu_used == 0 and mdev_used == 0"),
    # vf.yaml
    # one VF past the count (the bound stays `v.index < E`, the form families.yaml's
    # `symmetric: numvfs` allows, so the spec still loads)
    "vfs_are_created_in_order": ("s60-sriov-4vf", "machines/pf.yaml",
                                 "            if v.card == self and v.index < n:",
                                 "            if v.card == self and v.index < n + 1:"),
    "open_vf_only_bound_to_enflame": ("s60-sriov-4vf", "machines/vf.yaml",
                                      "      - require: opens == 0\n        errno: EBUSY",
                                      "      - require: True\n        errno: EBUSY"),
    # vm.yaml
    "running_vm_holds_one_device": ("s60-sriov-4vf", "machines/vm.yaml",
                                    "      vf_dev = None\n      pf_dev = None\n", "      pf_dev = None\n"),
    "held_devices_are_assigned": ("s60-sriov-4vf", "machines/pf.yaml",
                                  "      - require: all(v.binding != 'assigned' for v in vf if v.card == self)",
                                  "      - require: True"),
    "assigned_devices_have_one_vm": ("s60-sriov-4vf", "machines/vm.yaml",
                                     "          vf[vf_dev].binding = 'vfio'", "          vf[vf_dev].binding = 'assigned'"),
    # reset.yaml
    "no_reset_while_disabled": ("t20-reset", "machines/kmd.yaml",
                                "      - require: all(c.reset in {'idle', 'dead'} for c in card)\n        errno: EBUSY\n"
                                "        message: \"reset_enable: a reset is running\"",
                                "      - require: True\n        errno: EBUSY\n        message: \"reset_enable: a reset is running\""),
    "vm_resets_never_escalate": ("s60-reset", "machines/reset.yaml",
                                 "    dest: idle\n    when: not ok and origin == 'vm'\n    effect: |\n      flr_vf = None\n"
                                 "      requested = 'none'\n      origin = 'host'\n",
                                 "    dest: pf_flr\n    when: not ok and origin == 'vm'\n    effect: |\n      flr_vf = None\n"
                                 "      requested = 'none'\n"),
    "vm_reset_is_a_vf_flr_of_its_vf": ("s60-reset", "machines/vm.yaml",
                                       "      - require: vf_dev == None or card[vf[vf_dev].card].flr_vf != vf_dev",
                                       "      - require: True"),
    "vf_flr_names_a_vf_of_the_card": ("s60-reset", "machines/reset.yaml",
                                      "    flr_vf = None\n    escalated = False\n", "    escalated = False\n"),
    "resets_need_the_kmd": ("t20-reset", "machines/kmd.yaml",
                            "    - require: all(c.reset in {'idle', 'dead'} for c in card)\n      errno: EBUSY",
                            "    - require: True\n      errno: EBUSY"),
    "no_vf_workload_during_pf_reset": ("s60-reset", "machines/vm.yaml",
                                       "      - require: vf_dev == None or not card[vf[vf_dev].card].sp_paused",
                                       "      - require: True"),
    "l3_per_vf_matches_the_table": ("s60-sriov-4vf", "machines/pf.yaml",
                                    "    expr: (l3_total_mb - l3_pf_reserved_mb) // numvfs if numvfs > 0 else 0",
                                    "    expr: l3_total_mb // numvfs if numvfs > 0 else 0"),
    "vdev_counts_follow_the_product": ("i20-vgcu-time", "machines/pf.yaml",
                                       "      (vgcu_time_sliced if host.vgcu_num_loaded == 'four' else vgcu_spatial)",
                                       "      (vgcu_time_sliced if host.vgcu_num_loaded != 'two' else vgcu_spatial)"),
    # container.yaml, vm.yaml (devices in use)
    "vgcu_nodes_within_capacity": ("t20-vgcu", "machines/kmd.yaml",
                                   "    - require: all(c.opens == 0 and c.vgcu_used == 0 for c in card)",
                                   "    - require: all(c.opens == 0 for c in card)"),
    "each_vgcu_node_in_its_own_container": ("t20-vgcu", "machines/container.yaml",
                                            "              card[ctr_card].vgcu_used -= 1",
                                            "              card[ctr_card].vgcu_used -= 0"),
    "running_container_holds_one_device": ("t20-vgcu", "machines/container.yaml",
                                           "      ctr_card = None\n      ctr_vf = None\n      vgcu = False\n",
                                           "      ctr_vf = None\n      vgcu = False\n"),
    "mdevs_within_capacity": ("i20-mdev", "machines/vm.yaml",
                              "          card[mdev_card].mdev_used -= 1", "          card[mdev_card].mdev_used -= 0"),
    # parameters and the firewall
    "interrupt_thread_follows_irq_poll_interval": ("i20-asic", "machines/standby.yaml",
                                                   "    effect: threads_asleep = value\n",
                                                   "    effect: |\n      threads_asleep = value\n      ih_thread = not value\n"),
    "only_whitelisted_cards_are_driven": ("t20-2card", "machines/firewall.yaml",
                                          "      (host.whitelist_loaded == None or host.whitelist_loaded == self)\n",
                                          "      True\n"),
    "secured_registers_never_change_behind_the_firewall": ("i20-firewall", "machines/firewall.yaml",
                                                           "      if secured and has_firewall and fw == 'on':",
                                                           "      if False:"),
    "only_agreeing_cards_are_driven": ("i20-firewall", "machines/firewall.yaml",
                                       "      and (not has_firewall or (fw == 'on') == fw_firewall_on)\n",
                                       "      and True\n"),
    # identity and the QEMU access-control file
    "undriven_cards_hold_no_driver_data": ("i20-asic", "machines/pf.yaml",
                                           "      - binding = 'vfio'\n      - {use: drop_driver_data}\n",
                                           "      - binding = 'vfio'\n      - ih_thread = False\n"),
    "device_ids_are_distinct": ("t20-2card", "machines/pf.yaml",
                                "    expr: cards - 1 - self.index if host.reversed_probe else self.index",
                                "    expr: 0 if host.reversed_probe else self.index"),
    "bar0_read_only_under_the_access_control_file": ("t20-reset", "machines/vm.yaml",
                                                     "      if bar == 0 and not acl_active:", "      if bar == 0:"),
    # rpm.yaml
    "suspended_only_unused_with_rpm_on": ("t20-rpm", "machines/rpm.yaml",
                                          "    if rpm_power == 'suspended' and (usage_count > 0 or not rpm_enabled):",
                                          "    if rpm_power == 'suspended' and not rpm_enabled:"),
    "efvs_opens_are_opens": ("t20-rpm", "machines/pf.yaml",
                             "      - require: opens > opens_efvs + container_opens\n", "      - require: opens > 0\n"),
    # standby.yaml
    "closed_ioctls_serve_only_the_whitelist": ("i20-asic", "machines/standby.yaml",
                                               "    - require: ioctl_gate == 'open' or caller in standby_whitelist",
                                               "    - require: True"),
    # lemmas the induction proofs need (issue 4): each is a fact of its own, and can fail
    "packages_need_the_base_package": ("t20-asic", "machines/kmd.yaml",
                                       "      - require: host.virtpkg == 'absent'\n", "      - require: True\n"),
    "enflame_binding_needs_the_loaded_kmd": ("t20-asic", "machines/kmd.yaml",
                                             "          if c.binding == 'enflame':\n              c.binding = 'unbound'\n",
                                             "          if c.binding == 'enflame':\n              c.binding = 'enflame'\n"),
    "container_opens_are_opens": ("t20-vgcu", "machines/pf.yaml",
                                  "      - require: opens > opens_efvs + container_opens\n",
                                  "      - require: opens > opens_efvs\n"),
    "stopped_containers_hold_nothing": ("t20-vgcu", "machines/container.yaml",
                                        "      vgcu = False\n    reqs: [DOCK-1]\n", "    reqs: [DOCK-1]\n"),
    "vgcu_containers_hold_a_card": ("t20-vgcu", "machines/container.yaml",
                                    "      ctr_card = card\n      vgcu = True\n", "      vgcu = True\n"),
    "vf_num_is_a_count_the_part_supports": ("s60-sriov-4vf", "machines/kmd.yaml",
                                            "      - require: >\n          opt_mode != 'virt_host' or\n"
                                            "          all(not c.supports_sriov or (opt_vf_num if opt_vf_num != 0 else default_vf_num) in c.vf_modes for c in card)\n",
                                            "      - require: True\n"),
    "sp_paused_only_by_a_running_reset": ("s60-reset", "machines/reset.yaml",
                                          "    escalated = False\n    sp_paused = False\n    requested = 'none'\n",
                                          "    escalated = False\n    requested = 'none'\n"),
    "jobs_run_in_running_vms": ("s60-sriov-4vf", "machines/vm.yaml",
                                "      job = False\n      acl_active = False\n      bar0_written = False\n    reqs: [UNLD-4, SRIOV-8]",
                                "      acl_active = False\n      bar0_written = False\n    reqs: [UNLD-4, SRIOV-8]"),
}


def test_every_invariant_has_a_planted_violation(spec):
    assert set(PLANTED) == {p.name for p in spec.properties if p.kind == "invariant"}


@pytest.mark.parametrize("invariant", sorted(PLANTED))
def test_planted_violation_is_found_with_a_shortest_path(spec_copy, invariant):
    config, file, old, new = PLANTED[invariant]
    edit(spec_copy / file, old, new)
    system = System(load_spec(spec_copy), config)
    result = explore(system, max_states=60_000)
    found = {v.invariant: v for v in result.violations}
    assert invariant in found, f"{invariant} not reported; got {sorted(found)}"
    violation = found[invariant]
    # the path replays from its initial state to a state that breaks the invariant
    steps = replay(system, violation.path, result.states[violation.initial])
    assert all(outcome.accepted for _, outcome in steps)
    final = steps[-1][1].state if steps else result.states[violation.initial]
    assert invariant in system.check_invariants(final)
    # no explored state that breaks it is closer to an initial state (networkx BFS,
    # invariants evaluated again through the closures)
    graph = result.graph.copy()
    graph.add_edges_from(("start", node) for node in result.initial)
    depth = nx.single_source_shortest_path_length(graph, "start")
    bad = [n for n in range(len(result.states)) if n in depth and invariant in system.check_invariants(result.states[n])]
    assert len(violation.path) == min(depth[n] for n in bad) - 1
