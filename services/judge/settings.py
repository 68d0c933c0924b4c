"""Settings of the content-judge service (environment prefix `JUDGE_`)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import SettingsConfigDict

from shared.author_names import author_names, names_of
from shared.settings import DEFAULT_PORTS, ServiceSettings


class JudgeSettings(ServiceSettings):
    """Which judge runs where, which rubric it applies, and how rubric and fluency combine."""

    model_config = SettingsConfigDict(env_prefix="JUDGE_")

    port: int = Field(default=DEFAULT_PORTS["judge"], ge=1, le=65535)
    backend: Literal["transformers", "openai"] = Field(
        default="transformers",
        description="`transformers` (the model in this process) or `openai` (an "
        "OpenAI-compatible server such as vLLM, at `openai_url`).",
    )
    model: str | None = Field(
        default=None,
        description="Hub id, local folder or .gguf file; unset = the embedded "
        "SmolLM2-135M-Instruct.",
    )
    device: str = Field(default="auto", description="`auto`, `cpu`, `cuda`, `cuda:N`.")
    dtype: Literal["auto", "float32", "bfloat16", "float16"] = Field(
        default="auto",
        description="`auto` = bfloat16 on CUDA and on a CPU that multiplies bfloat16 natively "
        "(AMX or AVX-512 BF16: 2.3-2.8x the texts/s, scores within 0.001), else float32.",
    )
    max_context_tokens: int = Field(default=4096, ge=256, description="Judge prompt budget.")
    rubric: str = Field(
        default="narrative-v1", description="A rubric shipped in services/judge/rubrics."
    )
    rubric_weight: float = Field(
        default=0.25, ge=0, le=1, description="Weight of the rubric's expected score."
    )
    fluency_weight: float = Field(
        default=0.75, ge=0, le=1, description="Weight of the calibrated fluency."
    )
    end_marker: str = Field(
        default="THE END.", description="The last line a rubric may demand of a story."
    )
    author: str = Field(
        default="mark-twain",
        description="Whose names (own, titles, famous characters) a story must not mention: a "
        "table of the names file.",
    )
    names_file: Path | None = Field(
        default=None,
        description="TOML file of names per author (shape of shared/data/author_names.toml); "
        "unset = the packaged list, which the style service shares.",
    )
    repetition_threshold: float = Field(
        default=0.3, gt=0, lt=1, description="Repeated 4-gram ratio above which a story fails."
    )
    books_dir: Path | None = Field(
        default=None,
        description="Books whose passages calibrate fluency; unset = passages shipped with "
        "the package.",
    )
    calibration_passages: int = Field(
        default=16, ge=4, description="Passages (and as many scrambled copies) fluency is fit on."
    )
    cache_size: int = Field(default=4096, ge=0, description="Results kept (0 = no cache).")
    openai_url: str | None = Field(default=None, description="OpenAI-compatible server, e.g. vLLM.")
    openai_model: str | None = Field(default=None, description="Model name on that server.")
    openai_api_key: str | None = Field(default=None, description="That server's API key.")
    openai_concurrency: int = Field(
        default=8, ge=1, description="Requests to that server in flight at once."
    )
    openai_timeout_s: float = Field(
        default=120, gt=0, description="Read timeout of a request to that server."
    )

    @field_validator("rubric")
    @classmethod
    def _known_rubric(cls, value: str) -> str:
        from services.judge.rubrics import builtin_rubrics

        names = sorted(builtin_rubrics())
        if value not in names:
            raise ValueError(f"unknown rubric {value!r}; choose one of {', '.join(names)}")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> JudgeSettings:
        if self.rubric_weight + self.fluency_weight <= 0:
            raise ValueError("JUDGE_RUBRIC_WEIGHT and JUDGE_FLUENCY_WEIGHT cannot both be 0")
        if self.backend == "openai" and not (self.openai_url and self.openai_model):
            raise ValueError("JUDGE_BACKEND=openai needs JUDGE_OPENAI_URL and JUDGE_OPENAI_MODEL")
        try:
            names_of(self.author, self.names_file)
        except ValueError as exc:
            raise ValueError(f"JUDGE_AUTHOR / JUDGE_NAMES_FILE: {exc}") from None
        return self

    @property
    def forbidden_names(self) -> tuple[str, ...]:
        """The names of `author` a story must not mention."""
        return names_of(self.author, self.names_file)

    @property
    def telltale_words(self) -> tuple[str, ...]:
        """The words of those names that count alone, wherever they appear."""
        return author_names(self.author, self.names_file).telltale_words
