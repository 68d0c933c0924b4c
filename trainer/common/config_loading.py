"""A training stage's configuration: a dataclass tree read from YAML, overridden on the command
line, and its trainer section checked against the trainer's own arguments class.

Keys are dotted paths into the tree (`--grpo.learning_rate 1e-5`, `--rewards.0.url http://...`);
values are parsed as YAML scalars, so numbers, booleans and `null` work as expected. A nested
dataclass field is built from its mapping, a list of dataclasses item by item; an override into
a list the file does not set starts from the field's default list.
"""

from __future__ import annotations

import difflib
import json
import re
import typing
from dataclasses import MISSING, asdict, fields, is_dataclass
from importlib import import_module
from pathlib import Path
from typing import Any

import yaml

_NUMBER = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)[eE][-+]?\d+")
# Fields annotated with these plain types must hold them (YAML `yes` or `1.5` for an int fail).
_SCALAR_TYPES: dict[str, tuple[tuple[type, ...], str]] = {
    "int": ((int,), "an integer"),
    "float": ((int, float), "a number"),
    "bool": ((bool,), "true or false"),
}


class ConfigError(ValueError):
    """The configuration file or an override is wrong; the message says which key."""


def load_dataclass(
    cls: type[Any],
    path: Path | None,
    overrides: list[str],
    *,
    passthrough: str,
    arguments_class: str | None = None,
) -> Any:
    """A `cls` config tree from YAML at `path` and `--key value` overrides, in that order.

    `passthrough` names the field that holds trainer arguments as they are (a plain mapping);
    `arguments_class` (`module:Class`) is the dataclass they go to, imported only when the
    section has keys (TRL's import takes seconds); its fields are the keys the section may hold.
    """
    data: dict[str, Any] = {}
    if path is not None:
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise ConfigError(f"cannot read config {path}: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path} must hold a mapping of settings, got {type(data).__name__}")
    for key, value in _pairs(overrides):
        keys = key.split(".")
        if len(keys) > 1 and keys[0] not in data:
            data[keys[0]] = _default_of(cls, keys[0])
        _set(data, keys, _scalar(value))
    arguments = data.get(passthrough) or {}
    if not isinstance(arguments, dict):
        raise ConfigError(f"{passthrough} must be a mapping of trainer arguments")
    data[passthrough] = {key: _numbers(value) for key, value in arguments.items()}
    if arguments_class is not None and arguments:
        module, name = arguments_class.split(":")
        check_arguments(data[passthrough], getattr(import_module(module), name), passthrough)
    return _build(cls, data, "")


def check_arguments(arguments: dict[str, Any], config_class: type[Any], section: str) -> None:
    """Stop at a key that `config_class` (a dataclass) does not take, naming the closest that it
    does.

    >>> from dataclasses import make_dataclass
    >>> Args = make_dataclass("Args", ["learning_rate", "max_steps"])
    >>> try:
    ...     check_arguments({"learning_rat": 1e-5}, Args, "grpo")
    ... except ConfigError as exc:
    ...     print(exc)
    unknown key grpo.learning_rat (not a Args argument); closest: grpo.learning_rate
    """
    known = sorted(f.name for f in fields(config_class) if f.init)
    for key in arguments:
        if key in known:
            continue
        close = difflib.get_close_matches(key, known, n=3, cutoff=0.6)
        hint = "; closest: " + ", ".join(f"{section}.{c}" for c in close) if close else ""
        raise ConfigError(
            f"unknown key {section}.{key} (not a {config_class.__name__} argument){hint}"
        )


def plain_config(config: Any) -> dict[str, Any]:
    """A config dataclass as plain data (paths as text), for a run directory's copy."""
    plain: dict[str, Any] = _plain(asdict(config))
    return plain


def _scalar(text: str) -> Any:
    """An override's value: JSON first (so `1e-3` is a number), else YAML, else the text.

    >>> _scalar("1e-3"), _scalar("true"), _scalar("null"), _scalar("dr_grpo"), _scalar("[1, 2]")
    (0.001, True, None, 'dr_grpo', [1, 2])
    """
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return yaml.safe_load(text)


def _numbers(value: Any) -> Any:
    """YAML 1.1 reads `1e-5` as a string; numbers are what every such value means here."""
    if isinstance(value, str) and _NUMBER.fullmatch(value):
        return float(value)
    return value


def _pairs(overrides: list[str]) -> list[tuple[str, str]]:
    pairs, items = [], list(overrides)
    while items:
        key = items.pop(0)
        if not key.startswith("--"):
            raise ConfigError(f"expected an override like --key value, got {key!r}")
        if "=" in key:
            name, value = key[2:].split("=", 1)
        elif items:
            name, value = key[2:], items.pop(0)
        else:
            raise ConfigError(f"override {key} has no value")
        pairs.append((name.replace("-", "_"), value))
    return pairs


def _set(data: Any, path: list[str], value: Any) -> None:
    head, rest = path[0], path[1:]
    if isinstance(data, list):
        index = int(head)
        if not rest:
            data[index] = value
        else:
            _set(data[index], rest, value)
        return
    if not rest:
        data[head] = value
        return
    _set(data.setdefault(head, {}), rest, value)


def _default_of(cls: type[Any], name: str) -> Any:
    """What an override into field `name` starts from when the file does not set it: its default
    list as plain data (so `--rewards.0.url` edits the default rewards), else an empty mapping."""
    factory = next((f.default_factory for f in fields(cls) if f.name == name), MISSING)
    if factory is not MISSING:
        default = _plain(factory())
        if isinstance(default, list):
            return default
    return {}


def _build(cls: type[Any], data: Any, where: str) -> Any:
    """A `cls` from a mapping: nested dataclass fields from their mappings, lists of dataclasses
    item by item, paths as `Path`, plain `int`/`float`/`bool` fields checked for their type."""
    if not isinstance(data, dict):
        raise ConfigError(f"{where.rstrip('.') or 'the config'} must be a mapping, got {data!r}")
    hints = typing.get_type_hints(cls)
    known = {f.name for f in fields(cls)}
    unknown = sorted(set(data) - known)
    if unknown:
        names = ", ".join(where + k for k in unknown)
        raise ConfigError(f"unknown key(s) {names}; known: {', '.join(sorted(known))}")
    values = {name: _value(hints[name], value, f"{where}{name}") for name, value in data.items()}
    try:
        return cls(**values)
    except (TypeError, ValueError) as exc:  # a missing field, or a value __post_init__ refuses
        raise ConfigError(f"{where.rstrip('.') or 'config'}: {exc}") from None


def _value(hint: Any, value: Any, name: str) -> Any:
    item_types = typing.get_args(hint)
    if isinstance(hint, type) and is_dataclass(hint):
        return _build(hint, value, f"{name}.")
    item = item_types[0] if item_types else None
    if typing.get_origin(hint) is list and isinstance(item, type) and is_dataclass(item):
        if not isinstance(value, list):
            raise ConfigError(f"{name} must be a list, got {value!r}")
        return [_build(item, entry, f"{name}.{i}.") for i, entry in enumerate(value)]
    if value is not None and Path in (hint, *item_types):
        return Path(value)
    _check_scalar(name, getattr(hint, "__name__", ""), value)
    return value


def _check_scalar(name: str, kind: str, value: Any) -> None:
    if kind not in _SCALAR_TYPES:
        return
    expected, description = _SCALAR_TYPES[kind]
    if isinstance(value, bool) != (kind == "bool") or not isinstance(value, expected):
        raise ConfigError(f"{name} must be {description}, got {value!r}")


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    if is_dataclass(value):
        return _plain(asdict(value))  # type: ignore[arg-type]
    return value


def launch_arguments(argv: list[str]) -> tuple[Path | None, list[str]]:
    """The config file and the overrides of a command line; a bare `--resume` means true.

    >>> launch_arguments(["--config", "c.yaml", "--resume", "--sft.max_steps", "3"])
    (PosixPath('c.yaml'), ['--resume', 'true', '--sft.max_steps', '3'])
    >>> launch_arguments(["--resume", "false"])
    (None, ['--resume', 'false'])
    """
    args = list(argv)
    path = None
    if "--config" in args:
        index = args.index("--config")
        if index + 1 == len(args):
            raise ConfigError("--config needs a file")
        path = Path(args[index + 1])
        del args[index : index + 2]
    if "--resume" in args:
        index = args.index("--resume") + 1
        if index == len(args) or args[index].startswith("--"):
            args.insert(index, "true")
    return path, args
