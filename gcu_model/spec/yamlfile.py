"""YAML reading that remembers the line of every key and list item.

Spec errors must name file and line (issue 2, item 3); PyYAML's composed nodes carry
marks, so mappings and sequences are built as dict/list subclasses that keep them.
"""
from __future__ import annotations

import re
from pathlib import Path

import yaml

from .errors import InvalidSpec, Where


class LDict(dict):
    """A mapping with the line of itself and of each key."""
    line: int
    key_lines: dict
    value_lines: dict
    file: str

    def where(self, key=None) -> Where:
        return Where(self.file, self.key_lines.get(key, self.line) if key is not None else self.line)

    def value_where(self, key) -> Where:
        """Where the value of `key` starts (for expressions: the line of their first token)."""
        return Where(self.file, self.value_lines.get(key, self.key_lines.get(key, self.line)))


class LList(list):
    """A sequence with the line of itself and of each item."""
    line: int
    item_lines: list
    value_lines: list
    file: str

    def where(self, index=None) -> Where:
        if index is None or index >= len(self.item_lines):
            return Where(self.file, self.line)
        return Where(self.file, self.item_lines[index])


def _make_loader(file: str):
    class Loader(yaml.SafeLoader):
        pass

    def construct_mapping(loader, node, deep=False):
        loader.flatten_mapping(node)
        result = LDict()
        result.file = file
        result.line = node.start_mark.line + 1
        result.key_lines = {}
        result.value_lines = {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            try:
                hash(key)
            except TypeError:
                raise InvalidSpec("a mapping key must be a plain value", file,
                                  key_node.start_mark.line + 1, str(key))
            if key in result:
                raise InvalidSpec(f"duplicate key '{key}'", file, key_node.start_mark.line + 1, str(key))
            result[key] = loader.construct_object(value_node, deep=True)
            result.key_lines[key] = key_node.start_mark.line + 1
            # block scalars ("|", ">") start their text on the line after the indicator
            block = isinstance(value_node, yaml.ScalarNode) and value_node.style in ("|", ">")
            result.value_lines[key] = value_node.start_mark.line + 1 + (1 if block else 0)
        return result

    def construct_sequence(loader, node, deep=False):
        result = LList(loader.construct_object(child, deep=True) for child in node.value)
        result.file = file
        result.line = node.start_mark.line + 1
        result.item_lines = [child.start_mark.line + 1 for child in node.value]
        # where each item's text starts: block scalars ("|", ">") on the line after the indicator
        result.value_lines = [child.start_mark.line + 1 + (1 if isinstance(child, yaml.ScalarNode)
                                                           and child.style in ("|", ">") else 0)
                              for child in node.value]
        return result

    # YAML 1.1 reads on/off/yes/no as booleans; specs name states "off", so only
    # true/false are booleans here.
    Loader.yaml_implicit_resolvers = {
        first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }
    Loader.add_implicit_resolver("tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
                                 list("tTfF"))
    Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, construct_mapping)
    Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, construct_sequence)
    return Loader


def read_yaml(path: Path, display_name: str | None = None):
    """Parse one spec file; YAML syntax errors become InvalidSpec with the line."""
    name = display_name or str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InvalidSpec(f"cannot read file: {exc.strerror}", name) from None
    except UnicodeDecodeError:
        raise InvalidSpec("file is not UTF-8 text", name) from None
    try:
        data = yaml.load(text, Loader=_make_loader(name))  # noqa: S506 - SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        raise InvalidSpec(f"YAML syntax error: {exc.problem}", name, line) from None
    except yaml.YAMLError as exc:
        raise InvalidSpec(f"YAML error: {exc}", name) from None
    return data
