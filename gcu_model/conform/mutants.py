"""Faulty implementations the conformance kit must catch (issue 6, item 4).

A mutant is a YAML file under conformance/mutants/: a realistic driver bug, the
requirement IDs it breaks, the configurations where it shows, and how it is made from the
reference host:

    name: rmmod-ignores-peermem
    bug: "rmmod enflame succeeds while enflame_peermem still uses it"
    reqs: [UNLD-2]
    configs: [t20-asic]
    spec:                                  # text replacements in the spec tree (each exactly once)
      - file: machines/kmd.yaml
        old: "    - require: host.peermem != 'loaded'"
        new: "    - require: True"
    host: l3_kept_on_pf_flr                # or/and: a function of conformance/mutants/host_bugs.py

The mutant runs as the reference host on the patched spec, with the host function
applied after every reset: a driver whose decisions or device contents are wrong in
exactly that way. `gcu-model mutants` runs the suites and the lockstep tests against each
and reports whether and how fast it was caught.
"""
from __future__ import annotations

import importlib.util
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from ..adapters.targets import InProcessTarget
from ..reference.protocol import Server
from ..spec.errors import InvalidSpec
from ..spec.loader import load_spec

KEYS = {"name", "bug", "reqs", "configs", "spec", "host", "model_only"}


class MutantError(Exception):
    """A mutant file that cannot be read or applied."""


@dataclass
class Mutant:
    name: str
    path: Path
    bug: str
    reqs: list
    configs: list
    spec_patches: list = field(default_factory=list)     # [(file, old, new)]
    host: str | None = None
    # why no file, node, module or process a user sees shows the bug: then it is caught
    # with the model's labels compared (--model, in-house targets), and says so
    model_only: str | None = None


def load_mutants(directory: Path) -> list:
    files = sorted(Path(directory).glob("*.yaml"))
    if not files:
        raise MutantError(f"{directory}: no mutant files (*.yaml)")
    return [load_mutant(f) for f in files]


def load_mutant(path: Path) -> Mutant:
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise MutantError(f"{path}: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" line {mark.line + 1}" if mark else ""
        raise MutantError(f"{path}:{at}: not YAML ({getattr(exc, 'problem', exc)})") from None
    if not isinstance(doc, dict):
        raise MutantError(f"{path}: a mutant is a mapping with name, bug, reqs, configs and spec/host")
    unknown = sorted(set(doc) - KEYS)
    if unknown:
        raise MutantError(f"{path}: unknown key '{unknown[0]}'; keys: {', '.join(sorted(KEYS))}")
    for key in ("name", "bug", "reqs", "configs"):
        if not doc.get(key):
            raise MutantError(f"{path}: '{key}' is missing")
    if not doc.get("spec") and not doc.get("host"):
        raise MutantError(f"{path}: say what the bug changes: 'spec' replacements, a 'host' function, or both")
    patches = []
    for n, p in enumerate(doc.get("spec") or [], 1):
        if not isinstance(p, dict) or set(p) != {"file", "old", "new"}:
            raise MutantError(f"{path}: spec replacement {n} needs exactly file, old and new")
        patches.append((str(p["file"]), str(p["old"]), str(p["new"])))
    if "model_only" in doc and not (isinstance(doc["model_only"], str) and doc["model_only"].strip()):
        raise MutantError(f"{path}: model_only says why no user sees the bug (a sentence)")
    if doc["name"] != path.stem:
        raise MutantError(f"{path}: name '{doc['name']}' differs from the file name '{path.stem}'")
    return Mutant(doc["name"], path, str(doc["bug"]), list(doc["reqs"]), list(doc["configs"]), patches,
                  doc.get("host"), doc.get("model_only"))


def mutant_spec(mutant: Mutant, spec_dir: Path):
    """The spec with the mutant's replacements, loaded (each replacement must match once)."""
    if not mutant.spec_patches:
        return None
    with tempfile.TemporaryDirectory(prefix="gcu-mutant-") as tmp:
        root = Path(tmp) / "specs"
        shutil.copytree(spec_dir, root)
        for file, old, new in mutant.spec_patches:
            target = root / file
            if not target.is_file():
                raise MutantError(f"{mutant.path}: spec file '{file}' does not exist")
            text = target.read_text(encoding="utf-8")
            count = text.count(old)
            if count != 1:
                raise MutantError(f"{mutant.path}: in {file} the old text occurs {count} times, not once: "
                                  f"{old.strip()[:80]!r}")
            target.write_text(text.replace(old, new), encoding="utf-8")
        try:
            return load_spec(root)
        except InvalidSpec as exc:
            raise MutantError(f"{mutant.path}: the patched spec is invalid: {exc}") from None


def host_hook(mutant: Mutant, kit: Path):
    if mutant.host is None:
        return None
    module_path = kit / "mutants" / "host_bugs.py"
    spec = importlib.util.spec_from_file_location("gcu_model_host_bugs", module_path)
    if spec is None or not module_path.is_file():
        raise MutantError(f"{mutant.path}: host bug '{mutant.host}' needs {module_path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    hook = getattr(module, mutant.host, None)
    if not callable(hook):
        raise MutantError(f"{mutant.path}: {module_path} has no function '{mutant.host}'")
    return hook


class MutantServer(Server):
    """The reference host on the mutant's spec, its host bug applied after every reset."""

    def __init__(self, spec, hook=None):
        self.hook = hook
        super().__init__(spec)

    def _reset(self, config, initial=None):
        super()._reset(config, initial)
        if self.hook is not None:
            self.hook(self.host)


def mutant_target(mutant: Mutant, spec, spec_dir: Path, kit: Path):
    patched = mutant_spec(mutant, spec_dir) or spec
    hook = host_hook(mutant, kit)
    return InProcessTarget(f"mutant:{mutant.name}", lambda: MutantServer(patched, hook))


@dataclass
class MutantResult:
    name: str
    bug: str
    reqs: list
    suite_caught: bool = False
    suite_case: str = ""
    suite_step: int = 0
    suite_cases_run: int = 0
    suite_seconds: float = 0.0
    lockstep_caught: bool = False
    lockstep_config: str = ""
    lockstep_steps: int = 0            # length of the shrunk sequence
    lockstep_examples: int = 0
    lockstep_seconds: float = 0.0
    lockstep_prefix: list = field(default_factory=list)
    error: str = ""
    model_only: bool = False           # caught with the model's labels compared (--model)

    @property
    def caught(self) -> bool:
        return self.suite_caught and self.lockstep_caught

    def as_dict(self) -> dict:
        return {"name": self.name, "bug": self.bug, "reqs": self.reqs, "caught": self.caught,
                "observed": "model" if self.model_only else "visible",
                "suite": {"caught": self.suite_caught, "case": self.suite_case, "step": self.suite_step,
                          "cases_run": self.suite_cases_run, "seconds": round(self.suite_seconds, 3)},
                "lockstep": {"caught": self.lockstep_caught, "config": self.lockstep_config,
                             "shrunk_steps": self.lockstep_steps, "examples": self.lockstep_examples,
                             "seconds": round(self.lockstep_seconds, 3), "sequence": self.lockstep_prefix},
                "error": self.error}


def run_mutant(mutant: Mutant, spec, spec_dir: Path, kit: Path, suites: list, examples: int = 200,
               max_steps: int = 30, lockstep: bool = True) -> MutantResult:
    """The suites (configurations the mutant names first) until a case fails, then lockstep
    runs on the mutant's configurations until one fails."""
    from .lockstep import run_lockstep
    from .runner import Runner
    result = MutantResult(mutant.name, mutant.bug, mutant.reqs, model_only=mutant.model_only is not None)
    try:
        target = mutant_target(mutant, spec, spec_dir, kit)
    except MutantError as exc:
        result.error = str(exc)
        return result
    order = sorted(suites, key=lambda s: (s.config not in mutant.configs, mutant.configs.index(s.config)
                                          if s.config in mutant.configs else 0))
    model = mutant.model_only is not None
    runner = Runner(target, model=model)
    start = time.perf_counter()
    for suite in order:
        for case in suite.cases:
            r = runner.run_case(case)
            result.suite_cases_run += 1
            if not r.passed:
                result.suite_caught, result.suite_case, result.suite_step = True, r.case_id, r.divergence.step
                break
        if result.suite_caught:
            break
    result.suite_seconds = time.perf_counter() - start
    if lockstep:
        start = time.perf_counter()
        for config in mutant.configs:
            lr = run_lockstep(spec, config, target, examples=examples, max_steps=max_steps, model=model,
                              first_only=True)
            result.lockstep_examples += lr.examples
            if not lr.passed:
                result.lockstep_caught, result.lockstep_config = True, config
                result.lockstep_steps = len(lr.failure.prefix)
                result.lockstep_prefix = lr.failure.prefix
                break
        result.lockstep_seconds = time.perf_counter() - start
    return result
