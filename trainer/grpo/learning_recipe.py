"""The learning recipe for 2 CPU cores (`make learn`, scripts/learn.py): its held-out prompts,
its sampling, the services' settings for ~200-word stories, its reward curve, and the published
figures and stories of its evaluation.

SmolLM2-135M-Instruct learns Mark Twain's voice by GRPO (`configs/grpo_learn_cpu.yaml`) on the
built-in plots less 12 held out; the style service learns the base model's stories for the
training plots as a contrast class; `stylegrpo eval` then compares the base and the trained
model on the held-out plots with the same sampling and seeds.
"""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

from trainer.evaluation.completions import COMPLETIONS_FILE
from trainer.evaluation.generation import SamplingSettings
from trainer.evaluation.run import RESULTS_FOLDER
from trainer.grpo.completions_log import COMPLETIONS_LOG
from trainer.grpo.config import RunConfig
from trainer.grpo.prompts import plot_prompts, plot_split

CONFIG = Path(__file__).resolve().parents[2] / "configs" / "grpo_learn_cpu.yaml"
TEST_PLOTS = 12
# The band the completeness service rewards in full: the prompts ask for `story_words` (200).
BAND_WORDS = (150, 250)
BAND_HALF_LIFE_WORDS = 100
# None of the base model's stories ends with the `THE END.` line: credit for an ending without
# it gives the band's length signal something to act on while the policy learns the marker.
LOOSE_ENDING_CREDIT = 0.5
UNMARKED_ENDING_CREDIT = 0.25
# What `publish` copies: the held-out measures' figures and the training's curves.
PUBLISHED_SCORES = (
    "style", "content", "completeness", "stylometry", "author_lm", "author_vs_rivals",
)  # fmt: skip
PUBLISHED_FIGURES = (
    "style", "stylometry", "author_lm", "author_vs_rivals", "content", "completeness", "words",
)  # fmt: skip
TRAINING_FIGURES = ("rewards.png", "reward-hacking monitor.png", "completion length.png")
SERVICES = {"style": "style", "content": "judge", "completeness": "completeness"}
# After 24 steps on the base model's stories as the policy class, the style reward rose while the
# author-LM measure did not: the policy had moved away from the base model's stories, toward
# upbeat summary prose that is no nearer Twain. Adding the trained model's own stories to the
# policy class for the last 12 steps turned the held-out author-LM difference from -0.017 (the
# same 12 steps without the refit) to +0.040 (docs/learning.md).
REFIT_EVERY_STEPS = 24


def write_prompts(folder: Path, config: RunConfig) -> Path:
    """`train.jsonl` and `test.jsonl` of the plot prompts, split by plot; the train file."""
    folder.mkdir(parents=True, exist_ok=True)
    for split, plots in plot_split(TEST_PLOTS).items():
        rows = plot_prompts(config.author, config.story_words, plots)
        lines = "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)
        staged = folder / f".{split}.jsonl.tmp"
        staged.write_text(lines, encoding="utf-8")
        staged.replace(folder / f"{split}.jsonl")
    return folder / "train.jsonl"


def grpo_sampling(config: RunConfig) -> SamplingSettings:
    """GRPO's sampling, so that samples and evaluation see the stories training sees."""
    grpo = config.grpo
    return SamplingSettings(
        max_new_tokens=int(grpo["max_completion_length"]),
        temperature=float(grpo["temperature"]),
        top_p=float(grpo["top_p"]),
        top_k=int(grpo["top_k"]),
        min_p=float(grpo["min_p"]),
        repetition_penalty=float(grpo["repetition_penalty"]),
    )


def refit_rounds(steps: int, every: int) -> list[int]:
    """The step at which each round of GRPO ends: the style service relearns the policy's
    stories between rounds (every `every` steps; 0: never, one round).

    >>> refit_rounds(36, 12), refit_rounds(36, 24), refit_rounds(24, 0)
    ([12, 24, 36], [24, 36], [24])
    """
    if every < 0:
        raise ValueError(f"the refit interval must be >= 0 steps, 0 for never (got {every})")
    if every == 0 or every >= steps:
        return [steps]
    return [*range(every, steps, every), steps]


def refit_samples_path(out: Path, step: int) -> Path:
    """Where the stories of the model trained `step` steps, for the training plots, are kept."""
    return out / f"policy-samples-step{step}.jsonl"


def service_env(corpus: Path, policy_texts: list[Path], style_temperature: float) -> dict[str, str]:
    """The services' settings: the corpus, the policy's stories, the story band.

    >>> env = service_env(Path("corpus"), [Path("base.jsonl"), Path("step24.jsonl")], 2.0)
    >>> env["COMPLETENESS_BAND_LOW_WORDS"], env["STYLE_POLICY_TEXTS"]
    ('150', 'base.jsonl,step24.jsonl')
    """
    low, high = BAND_WORDS
    env = {
        "STYLE_BOOKS_DIR": str(corpus / "books"),
        "STYLE_POLICY_TEXTS": ",".join(str(path) for path in policy_texts),
        "STYLE_SCORE_TEMPERATURE": str(style_temperature),
        "COMPLETENESS_BAND_LOW_WORDS": str(low),
        "COMPLETENESS_BAND_HIGH_WORDS": str(high),
        "COMPLETENESS_BAND_HALF_LIFE_WORDS": str(BAND_HALF_LIFE_WORDS),
        "COMPLETENESS_LOOSE_ENDING_CREDIT": str(LOOSE_ENDING_CREDIT),
        "COMPLETENESS_UNMARKED_ENDING_CREDIT": str(UNMARKED_ENDING_CREDIT),
    }
    negatives = corpus / "llm-generic-paragraphs.jsonl"
    if negatives.is_file():
        env["STYLE_NEGATIVE_TEXTS"] = str(negatives)
    for prefix in ("STYLE", "JUDGE", "COMPLETENESS"):
        env[f"{prefix}_LOG_LEVEL"] = "warning"
    return env


def reward_curve(config: RunConfig, every: int = 8) -> dict[int, float]:
    """Mean weighted reward of the completions of each block of `every` steps, by its last step."""
    blocks: dict[int, list[tuple[int, float]]] = {}
    for line in (config.run_dir / COMPLETIONS_LOG).read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        total = sum(s.weight * (record["rewards"][s.name] or 0.0) for s in config.rewards)
        blocks.setdefault((record["step"] - 1) // every, []).append((record["step"], total))
    return {
        max(step for step, _ in block): sum(total for _, total in block) / len(block)
        for _, block in sorted(blocks.items())
    }


def side_by_side(eval_dir: Path, models: tuple[str, str], rows: int = 3) -> str:
    """Markdown: each model's first story for the first `rows` held-out prompts (the first rows,
    not chosen ones), with its scores from the evaluation."""
    with (eval_dir / RESULTS_FOLDER / "scores.csv").open(encoding="utf-8", newline="") as handle:
        scores = {(r["model"], int(r["row"]), int(r["sample"])): r for r in csv.DictReader(handle)}
    stories: dict[tuple[str, int], dict[str, object]] = {}
    for model in models:
        for line in (eval_dir / model / COMPLETIONS_FILE).read_text(encoding="utf-8").splitlines():
            record = json.loads(line)
            if record["sample"] == 0 and record["row"] < rows:
                stories[(model, record["row"])] = record
    parts = [f"# {' and '.join(models)}: the first story for the first {rows} held-out prompts"]
    for row in range(rows):
        prompt = str(stories[(models[0], row)]["prompt"]).split("\n")[0]
        parts.append(f"## {row + 1}. {prompt}")
        for model in models:
            score = scores[(model, row, 0)]
            summary = ", ".join(
                f"{name} {float(score[name]):.3f}" for name in PUBLISHED_SCORES if name in score
            )
            text = str(stories[(model, row)]["completion"]).strip()
            quoted = "\n".join(f"> {line}" if line else ">" for line in text.splitlines())
            parts.append(f"**{model}** ({summary}, {score['words']} words)\n\n{quoted}")
    return "\n\n".join(parts) + "\n"


def publish(run: Path, models: tuple[str, str], folder: Path) -> list[Path]:
    """Copy the evaluation's table and figures, the training curves and the side-by-side stories
    into `folder` (the README shows them from there); returns what was written."""
    folder.mkdir(parents=True, exist_ok=True)
    results = run / "eval" / RESULTS_FOLDER
    # A measure's figure exists where the evaluation had it (author_vs_rivals: another author).
    figures = [f for f in (results / f"{m}.png" for m in PUBLISHED_FIGURES) if f.is_file()]
    table = folder / "results.md"
    table.write_text(
        only_figures(
            (results / "results.md").read_text(encoding="utf-8"), {f.name for f in figures}
        ),
        encoding="utf-8",
    )
    # The monitor's figure exists once the monitor has run (every `monitor.every_steps`).
    report = run / "grpo" / "report"
    sources = [*figures, *(report / n for n in TRAINING_FIGURES if (report / n).is_file())]
    written = [table]
    for source in sources:
        name = source.name if source.parent == results else f"training-{source.name}"
        target = folder / name.replace(" ", "-")
        shutil.copyfile(source, target)
        written.append(target)
    stories = folder / "side-by-side.md"
    stories.write_text(side_by_side(run / "eval", models), encoding="utf-8")
    return [*written, stories]


def only_figures(page: str, published: set[str]) -> str:
    """The results page without the image lines of figures that were not published.

    >>> only_figures("![a](a.png)", {"a.png"}), only_figures("![b](b.png)", {"a.png"})
    ('![a](a.png)', '')
    """
    kept = [
        line
        for line in page.splitlines(keepends=True)
        if not (line.startswith("![") and line.rstrip().split("(")[-1].rstrip(")") not in published)
    ]
    return "".join(kept)
