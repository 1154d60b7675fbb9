"""Reading this project's data files (YAML checked by a JSON Schema) with errors naming file, line and field.

Used by the broker's world and fault catalogue and by the harness's scenarios and SP profiles: one
way to load a data file, in one place. An error says `file, line N, entry, field 'x': what is wrong`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema
import yaml

# libyaml's parser when PyYAML has it (about ten times faster: the broker reads its fault catalogue and the
# harness its scenarios at start); the pure-Python one otherwise. Both give the same nodes and marks.
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

_TYPES = {"string": "a string", "array": "a list", "object": "a mapping", "integer": "a whole number",
          "boolean": "true or false", "number": "a number"}


class DataFileError(Exception):
    """A data file (or data) that cannot be used; says where and why."""

    def __init__(self, message: str, *, file: str | None = None, entry: str | None = None,
                 field: str | None = None, line: int | None = None):
        self.file, self.entry, self.field, self.message, self.line = file, entry, field, message, line
        super().__init__(message)

    def __str__(self) -> str:
        where = [self.file, f"line {self.line}" if self.line else None, self.entry,
                 f"field {self.field!r}" if self.field else None]
        return ", ".join(w for w in where if w) + ": " + self.message if any(where) else self.message


def label_by_id(item: Any) -> str:
    return f" ({item['id']})" if isinstance(item, dict) and isinstance(item.get("id"), str) else ""


@dataclass
class DataFile:
    data: Any
    source: str
    lines: dict[tuple, int] = field(default_factory=dict)  # path (keys and indexes) → line
    label: Callable[[Any], str] = label_by_id  # how an entry of a top-level list is named in errors
    error_class: type[DataFileError] = DataFileError

    def error(self, path: tuple, message: str, line: int | None = None) -> DataFileError:
        entry, fld = None, None
        if len(path) >= 2 and isinstance(path[1], int) and isinstance(self.data, dict):
            entry = f"{path[0]}[{path[1]}]" + self.label(self.data[path[0]][path[1]])
            fld = _dotted(path[2:])
        elif len(path) >= 1 and isinstance(path[0], int) and isinstance(self.data, list):
            entry = f"[{path[0]}]" + self.label(self.data[path[0]])
            fld = _dotted(path[1:])
        elif path:
            entry, fld = (path[0], _dotted(path[1:])) if len(path) > 1 else (None, str(path[0]))
        line = line or next((self.lines[path[:n]] for n in range(len(path), -1, -1) if path[:n] in self.lines), None)
        return self.error_class(message, file=self.source, entry=entry, field=fld or None, line=line)

    def check_schema(self, validator: jsonschema.protocols.Validator) -> None:
        """Raise the error that comes first in the file, worded for a person."""
        raw = list(validator.iter_errors(self.data))
        # A misspelt field is both "unknown" and a "missing" one: name the unknown one, where the typo is.
        misspelt_in = {tuple(e.absolute_path) for e in raw if e.validator == "additionalProperties"}
        errors = [_schema_message(e) for e in raw
                  if not (e.validator == "required" and tuple(e.absolute_path) in misspelt_in)]
        if errors:
            path, message = min(errors, key=lambda pm: (self.error(pm[0], "").line or 0, str(pm[0])))
            raise self.error(path, message)


def schema_validator(path: Path) -> jsonschema.protocols.Validator:
    return jsonschema.Draft202012Validator(json.loads(Path(path).read_text("utf-8")))


def read_yaml(path: str | Path, *, what: str = "file", error_class: type[DataFileError] = DataFileError,
              label: Callable[[Any], str] = label_by_id) -> DataFile:
    """Parse a YAML file keeping the line of every key and item; refuse duplicate keys."""
    source = str(path)
    try:
        text = Path(path).read_text("utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise error_class(f"cannot read the {what}: {getattr(e, 'strerror', None) or e}", file=source) from e
    loader = _Loader(text)
    try:  # the composed nodes know their lines; the data is built from the same nodes
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        raise error_class(f"not valid YAML: {getattr(e, 'problem', None) or e}", file=source,
                          line=mark.line + 1 if mark else None) from e
    finally:
        loader.dispose()
    lines: dict[tuple, int] = {}
    duplicates: list[tuple[tuple, int, int]] = []
    if node is not None:
        _index_lines(node, (), lines, duplicates)
    datafile = DataFile(data, source, lines, label, error_class)
    if duplicates:
        path, line, first = duplicates[0]
        raise datafile.error(path, f"duplicate key {path[-1]!r} (first on line {first})", line)
    return datafile


def _index_lines(node: yaml.Node, path: tuple, lines: dict[tuple, int], duplicates: list) -> None:
    """Map each path to its line: the key's line for a field, the item's for an entry."""
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            key, line = (k.value if isinstance(k, yaml.ScalarNode) else None), k.start_mark.line + 1
            if path + (key,) in lines:
                duplicates.append((path + (key,), line, lines[path + (key,)]))
                continue
            lines[path + (key,)] = line
            _index_lines(v, path + (key,), lines, duplicates)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _index_lines(item, path + (i,), lines, duplicates)


def _dotted(parts: tuple) -> str:
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in parts).lstrip(".")


def _schema_message(e: jsonschema.ValidationError) -> tuple[tuple, str]:
    path = tuple(e.absolute_path)
    if e.validator == "additionalProperties":
        allowed = list(e.schema.get("properties", {}))
        extra = sorted(k for k in e.instance if k not in allowed)[0]
        return path + (extra,), f"unknown field {extra!r} (allowed: {', '.join(allowed)})"
    if e.validator == "required":
        missing = next(k for k in e.validator_value if k not in e.instance)
        return path + (missing,), f"missing required field {missing!r}"
    if e.validator == "type":
        want = _TYPES.get(e.validator_value, e.validator_value)
        got = "empty (null)" if e.instance is None else type(e.instance).__name__
        hint = ' (put numbers in quotes, e.g. "01234567", so leading zeros stay)' \
            if e.validator_value == "string" and isinstance(e.instance, (int, float)) else ""
        return path, f"must be {want}, not {got}{hint}"
    if "x-error" in e.schema:
        return path, e.schema["x-error"].format(value=e.instance)
    return path, e.message
