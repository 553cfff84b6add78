"""The results cache (spec/disk_cache.py): an entry is found again only under the same spec
bytes and code, a cut-short or foreign entry is computed again, and `off` keeps nothing."""
from __future__ import annotations

import importlib

from gcu_model.spec import disk_cache
from gcu_model.spec.loader import load_spec

docs_generate = importlib.import_module("gcu_model.docs.generate")   # the package exports a function of that name


def test_a_stored_value_is_found_under_its_key_only(spec, spec_copy, tmp_path, monkeypatch):
    monkeypatch.setenv("GCU_MODEL_CACHE", str(tmp_path / "cache"))
    k = disk_cache.key("probe", spec)
    assert k == disk_cache.key("probe", load_spec(spec_copy))      # the same bytes: the same key
    disk_cache.store(k, {"walk": {1, 2}})
    assert disk_cache.load(k) == {"walk": {1, 2}}
    (spec_copy / "configs.yaml").write_text((spec_copy / "configs.yaml").read_text() + "\n# edited\n")
    assert disk_cache.key("probe", load_spec(spec_copy)) != k     # a comment is a byte too
    assert disk_cache.key("other", spec) != k
    assert disk_cache.key("probe", spec, ("spec",)) != k           # other code, other key


def test_a_cut_short_entry_is_missing_and_off_keeps_nothing(spec, tmp_path, monkeypatch):
    monkeypatch.setenv("GCU_MODEL_CACHE", str(tmp_path / "cache"))
    k = disk_cache.key("probe", spec)
    disk_cache.store(k, list(range(1000)))
    path = tmp_path / "cache" / k
    path.write_bytes(path.read_bytes()[:40])
    assert disk_cache.load(k) is disk_cache.MISSING
    assert [p.name for p in (tmp_path / "cache").iterdir()] == [k]     # no temporary file left
    monkeypatch.setenv("GCU_MODEL_CACHE", "off")
    assert disk_cache.key("probe", spec) is None
    disk_cache.store(k, 1)
    assert disk_cache.load(k) is disk_cache.MISSING


def test_docs_computes_a_slow_part_once_across_processes(spec, tmp_path, monkeypatch):
    monkeypatch.setenv("GCU_MODEL_CACHE", str(tmp_path / "cache"))
    calls = []

    def compute():
        calls.append(1)
        return {"found": {"a"}}

    first = docs_generate.once_per_spec(spec, "probe-part", compute)
    monkeypatch.setattr(docs_generate, "_ONCE", {})                  # as a new process would start
    again = docs_generate.once_per_spec(spec, "probe-part", compute)
    assert first == again == {"found": {"a"}} and calls == [1]
    again["found"].add("b")                                         # a caller's change stays its own
    assert docs_generate.once_per_spec(spec, "probe-part", compute) == {"found": {"a"}}
