"""Hosts whose cards are of several products (issue 8): constants.yaml `per: card` gives
each card its own product, part and what they fix; the rules read a card's own values, the
host-wide checks quantify over the cards, and the reference host shows each card as its
product would be."""
from __future__ import annotations

import pytest

from conftest import host_with_cards, refused_with, run_actions
from gcu_model.core.outcome import Accepted
from gcu_model.reference.host import ReferenceHost
from gcu_model.reference.sysfs import Sysfs
from gcu_model.spec.model import PerInstance

ASIC = "install_base(opt_mode=asic, opt_vf_num=0, opt_auto_load=true)"
VIRT_HOST = "install_base(opt_mode=virt_host, opt_vf_num=4, opt_auto_load=true)"


@pytest.fixture(scope="module")
def mixed(systems):
    return systems["mixed-host"]


def test_each_card_gets_its_own_products_row(spec):
    config = spec.configs["mixed-host"]
    assert config.values["product"] == PerInstance(["T20", "I20", "S60"])
    assert [config.value_of("supports_sriov", i) for i in range(3)] == [False, False, True]
    assert [config.value_of("has_firewall", i) for i in range(3)] == [False, True, False]
    assert [config.value_of("mdev_per_card", i) for i in range(3)] == [4, 2, 0]
    assert [config.value_of("vf_slots", i) for i in range(3)] == [0, 0, 4]
    assert config.value_of("vf_modes", 2) == frozenset({1, 2, 4})
    # one value shown where the cards agree, the list where they differ
    assert config.given("product") == ["T20", "I20", "S60"] and config.given("l3_pf_reserved_mb") == [0, 0, 2048]
    assert spec.configs["s60-2card"].given("product") == "S60"
    with pytest.raises(KeyError):
        config.value_of("product")


def test_a_cards_bounds_are_its_own(spec, mixed):
    """numvfs is bounded by the card's own sriov_totalvfs; every card has the most VF slots
    of any card, and those past a card's own count never exist."""
    two_and_four = host_with_cards(spec, "mixed-host", ["T20", "S60", "S60"],
                                   ["none", "EFB-0088800-00", "EFB-0088000-00"])
    layout = two_and_four.layout
    assert layout.count("vf") == 4
    bounds = {s.label: s.hi for s in layout.slots if s.var == "numvfs"}
    assert bounds == {"card1.numvfs": 2, "card2.numvfs": 4}
    # a T20's and an I20's numvfs never change: folded out of the state as 0
    assert layout.frozen[("card", 0, "numvfs")] == 0
    assert mixed.layout.frozen[("card", 0, "numvfs")] == 0 and mixed.layout.frozen[("card", 1, "numvfs")] == 0


def test_install_takes_a_mode_one_card_supports_and_the_others_run_as_in_asic_mode(mixed):
    state = run_actions(mixed, [VIRT_HOST])
    view = mixed.describe(state)
    assert view["host.mode"] == "virt_host"
    assert view["card2.numvfs"] == 4 and view["card0.numvfs"] == 0 and view["card1.numvfs"] == 0
    # the S60 is the PF of an SR-IOV host (SRIOV-3); the T20 and the I20 are whole cards
    q = mixed.quantities(state)
    assert [q[f"card{i}.sriov_pf"] for i in range(3)] == [False, False, True]
    assert [q[f"card{i}.whole_card"] for i in range(3)] == [True, True, False]
    refused_with(mixed, state, "open_pf(card=card2)", "ENODEV")
    assert isinstance(mixed.step(state, "open_pf(card=card0)"), Accepted)
    # the T20 has no sriov_numvfs file (PROD-7)
    out = refused_with(mixed, state, "write_sriov_numvfs(card=card0, n=2)", "ENOENT")
    assert "card0/sriov_numvfs: No such file or directory" in out.message


def test_messages_name_the_cards_own_product(mixed):
    state = run_actions(mixed, [ASIC])
    out = refused_with(mixed, state, "write_sriov_numvfs(card=card2, n=3)", "ENOENT")
    assert "not installed with --virt-host" in out.message
    state = run_actions(mixed, [VIRT_HOST])
    state = run_actions(mixed, ["write_sriov_numvfs(card=card2, n=0)"], state)
    out = refused_with(mixed, state, "write_sriov_numvfs(card=card2, n=3)", "EINVAL")
    assert out.message == "sriov_numvfs: S60 EFB-0088000-00 does not support 3 VFs"
    # a host-wide message names every product of the host
    out = refused_with(mixed, mixed.initial[0], "install_base(opt_mode=virt_host, opt_vf_num=3, opt_auto_load=true)",
                       "EINVAL")
    assert out.message == "enflame-x.run: T20/I20/S60 none/EFB-0088000-00 does not support --vf-num 3"


def test_a_host_with_a_two_vf_only_part_refuses_asic_mode(spec):
    """PROD-3: an S60 EFB-0088800-00 runs in its 2-VF mode only; a host with one among its
    cards cannot be installed in ASIC mode (ASSUMPTION), whatever its other cards."""
    system = host_with_cards(spec, "mixed-host", ["T20", "I20", "S60"], ["none", "none", "EFB-0088800-00"])
    out = refused_with(system, system.initial[0], ASIC, "EINVAL")
    assert "supports the 2-VF mode only" in out.message
    state = run_actions(system, ["install_base(opt_mode=virt_host, opt_vf_num=0, opt_auto_load=true)"])
    assert system.describe(state)["card2.numvfs"] == 2


def test_the_reference_host_shows_each_card_as_its_product(spec):
    host = ReferenceHost(spec, "mixed-host")
    fs = Sysfs(host)
    assert host.apply(VIRT_HOST).accepted
    devices = fs.devices()
    ids = spec.device["pci_device"]
    cards = {inst.label: bdf for bdf, (role, inst) in devices.items() if role == "pf"}
    for label, product in (("card0", "T20"), ("card1", "I20"), ("card2", "S60")):
        assert fs.read(f"/sys/bus/pci/devices/{cards[label]}/device") == f"0x{ids[product]:04x}\n"
    pf = f"/sys/bus/pci/devices/{cards['card2']}"
    assert fs.read(f"{pf}/sriov_totalvfs") == "4\n" and fs.read(f"{pf}/sriov_numvfs") == "4\n"
    assert not any(p.startswith(f"/sys/bus/pci/devices/{cards['card0']}/sriov") for p in fs.files())
    vfs = [bdf for bdf, (kind, _) in devices.items() if kind == "vf"]
    assert len(vfs) == 4 and all(fs.read(f"/sys/bus/pci/devices/{b}/device") == f"0x{spec.device['vf_device']['S60']:04x}\n"
                                 for b in vfs)
    # FW-2: only the I20 has secured register ranges
    dumps = {p: fs.read(p) for p in fs.files() if p.endswith("dump_reg_group")}
    assert sorted(bool(text) for text in dumps.values()) == [False, False, True]


def test_firewall_facts_are_proven_for_the_firewall_card_only(spec):
    from gcu_model.prove.induction import prove
    base = spec.configs["mixed-host"]
    values = dict(base.values, explore_firewall=True, fw_firewall_on=True, vms=0, containers=0)
    initial = {k: v for k, v in base.initial.items() if k != ("card", "fw")}     # firmware on or off
    config = spec.derive_config("mixed host, register accesses", values, initial)
    facts = [f for f in prove(spec, config, bounded_check=False).bit_facts if f.reqs == ("FW-3",) or "FW-3" in f.reqs]
    assert facts and {f.name.split(":")[0] for f in facts} == {"card1"}
    assert all(f.status == "proven" for f in facts)


def test_a_vf_instance_can_be_narrowed_where_vf_slots_is_per_card(spec_copy):
    """`initial: {card0.vf1.x: ...}` names a VF slot; its card's count of slots is a per-card
    constant, and the loader sizes the family as the layout does (the largest)."""
    from gcu_model.spec.errors import InvalidSpec
    from gcu_model.spec.loader import load_spec
    configs = spec_copy / "configs.yaml"
    text = configs.read_text(encoding="utf-8")
    at = text.index("  mixed-host:")
    start = text.index("    initial: {", at)
    configs.write_text(text[:start] + "    initial: {card2.vf3.rpm_vf_on: [false], " + text[start + len("    initial: {"):],
                       encoding="utf-8")
    loaded = load_spec(spec_copy)
    assert loaded.configs["mixed-host"].initial["card2.vf3.rpm_vf_on"] == (False,)
    configs.write_text(configs.read_text(encoding="utf-8").replace("card2.vf3.rpm_vf_on", "card2.vf4.rpm_vf_on"),
                       encoding="utf-8")
    with pytest.raises(InvalidSpec, match="there is no vf4 here"):
        load_spec(spec_copy)
