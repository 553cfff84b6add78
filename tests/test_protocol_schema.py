"""The adapter protocol's JSON Schema (docs/adapter-protocol.schema.json) describes what the
reference server really sends and takes (issue 5: a documented, language-neutral protocol)."""
from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from gcu_model.reference.protocol import OPS, Server

SCHEMA = json.loads((Path(__file__).parent.parent / "docs" / "adapter-protocol.schema.json").read_text())


def validator(part):
    return jsonschema.Draft202012Validator({"$ref": f"#/$defs/{part}", "$defs": SCHEMA["$defs"]})


TRAFFIC = [
    {"op": "hello"}, {"op": "reset", "config": "s60-reset", "id": 1},
    {"op": "run", "command": "sudo ./enflame-xxx.run --virt-host"},
    {"op": "apply", "action": "write_sriov_numvfs(card=card0, n=2)"},
    {"op": "apply", "action": "write_sriov_numvfs(card=card0, n=0)"},
    {"op": "read", "path": "/sys/bus/pci/devices/0000:01:00.0/sriov_numvfs"},
    {"op": "read", "path": "/sys/nothing"},
    {"op": "write", "path": "/sys/bus/pci/drivers/enflame/reset_enable", "text": "0"},
    {"op": "write", "path": "/sys/module/enflame/version", "text": "0"},
    {"op": "list", "path": "/sys/bus/pci/devices"}, {"op": "ras", "ip": "MIH", "device": "card0"},
    {"op": "observe"}, {"op": "advance", "ms": 500}, {"op": "bye"},
]
BAD = [{"op": "jump"}, {"op": "read"}, {"op": "advance", "ms": -1}, {"op": "apply", "action": "nope()"},
       {"op": "reset", "config": "t99"}]


def test_every_op_is_in_the_schema():
    ops = {branch["properties"]["op"]["const"] for branch in SCHEMA["$defs"]["request"]["oneOf"]}
    assert ops == set(OPS)


def test_the_reference_servers_traffic_follows_the_schema(spec):
    server = Server(spec)
    requests, responses = validator("request"), validator("response")
    for req in TRAFFIC:
        requests.validate(req)
        reply = server.handle(req)
        assert reply["ok"], (req, reply)
        responses.validate(reply)
    for req in BAD:
        reply = server.handle(req)
        assert not reply["ok"]
        responses.validate(reply)


@pytest.mark.parametrize("bad", [{"op": "read"}, {"op": "advance", "ms": -1}, {"op": "jump"}, {"path": "/sys"}])
def test_the_schema_refuses_malformed_requests(bad):
    assert not validator("request").is_valid(bad)


def test_the_schema_refuses_malformed_responses():
    responses = validator("response")
    assert not responses.is_valid({"ok": False})                                  # no error
    assert not responses.is_valid({"ok": True, "result": {"accepted": False}})    # no errno
    assert not responses.is_valid({"ok": True, "result": {"accepted": False, "errno": "busy", "message": ""}})
