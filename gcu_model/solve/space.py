"""The configuration space of `gcu-model solve` (issue 4, item 1), from configs.yaml
`solver:` and the product and part tables of constants.yaml.

A host is a combination of facts (product, part number, platform, 64-bit kernel, Above
4G decoding). Each combination is one configuration, grounded like an embedded one; what
a set-up does on it is decided by the spec's rules, through the same ground rules the
explorer and the proofs use.
"""
from __future__ import annotations

import itertools

from ..core.system import System
from ..spec.types import BoolT, EnumT


class SpaceError(ValueError):
    """A fact the space does not have, or a value it cannot take."""


def parts_of(spec, product) -> list:
    """The part numbers a product comes in: the `parts` rows that name it, else `none`."""
    rows = spec.tables.get("parts", {})
    named = [key for key, row in rows.items() if row.get("product") == product]
    return named or ["none"]


def fact_values(spec, fact) -> list:
    t = spec.constants[fact].type
    return list(t.values) if isinstance(t, EnumT) else [True, False]


def parse_fact(spec, fact: str, text: str):
    """'platform', 'emulation' -> 'emulation'; 'arch_64bit', 'false' -> False."""
    space = spec.solver
    if fact not in space.facts:
        raise SpaceError(f"unknown fact '{fact}'; the facts are: {', '.join(space.facts)}")
    t = spec.constants[fact].type
    if isinstance(t, BoolT):
        if text.lower() not in ("true", "false"):
            raise SpaceError(f"fact {fact} is true or false, not '{text}'")
        return text.lower() == "true"
    if text not in t.values:
        raise SpaceError(f"fact {fact} is one of {', '.join(t.values)}, not '{text}'")
    return text


def combinations(spec, fixed: dict, vary_all: bool = False) -> list:
    """Fact combinations matching `fixed`. Product and part number vary when not fixed;
    the other facts take their defaults unless `vary_all`."""
    space = spec.solver
    products = [fixed["product"]] if "product" in fixed else fact_values(spec, "product")
    out = []
    for product in products:
        parts = parts_of(spec, product)
        if "part_number" in fixed:
            if fixed["part_number"] not in parts:
                continue
            parts = [fixed["part_number"]]
        others = [f for f in space.facts if f not in ("product", "part_number")]
        choices = []
        for f in others:
            if f in fixed:
                choices.append([fixed[f]])
            elif vary_all:
                choices.append(fact_values(spec, f))
            else:
                choices.append([spec.constants[f].default])
        for part in parts:
            for combo in itertools.product(*choices):
                out.append({"product": product, "part_number": part, **dict(zip(others, combo))})
    if not out:
        raise SpaceError(f"no host matches {', '.join(f'{k}={v}' for k, v in fixed.items())} "
                         f"(part numbers: {', '.join(p for pr in fact_values(spec, 'product') for p in parts_of(spec, pr))})")
    return out


def describe_facts(facts: dict) -> str:
    parts = [facts["product"]] + ([facts["part_number"]] if facts["part_number"] != "none" else [])
    parts += [f"{k}={str(v).lower() if isinstance(v, bool) else v}" for k, v in facts.items()
              if k not in ("product", "part_number")]
    return " ".join(parts)


_SYSTEMS: dict = {}


def system_for(spec, facts: dict) -> System:
    """The grounded configuration of one fact combination (cached per spec)."""
    key = (id(spec), tuple(sorted((k, str(v)) for k, v in facts.items())))
    if key not in _SYSTEMS:
        name = "solve-" + "-".join(str(v).lower() for v in facts.values())
        config = spec.derive_config(name, {**spec.solver.values, **facts}, spec.solver.initial,
                                    description=describe_facts(facts), where=spec.solver.where)
        _SYSTEMS[key] = (spec, System(spec, config))    # the spec is kept so its id stays its own
    return _SYSTEMS[key][1]
