"""The evaluation's fast parts: prompt loading, the resumable completions file, the measures
that need no service, the CLI's errors."""

from __future__ import annotations

import doctest
import json
import math
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from shared.child_processes import free_port
from stylegrpo.cli import build_app
from trainer.evaluation import commands, generation, intervals, prompts, table
from trainer.evaluation.completions import COMPLETIONS_FILE, CompletionsStore
from trainer.evaluation.generation import Completion, Job, SamplingSettings
from trainer.evaluation.local_generator import TransformersGenerator
from trainer.evaluation.prompts import PromptRow, load_prompt_rows
from trainer.evaluation.run import EvaluationSetup, ModelToEvaluate, evaluate
from trainer.evaluation.scoring import score_completions
from trainer.evaluation.stylometry import StylometryProfile
from trainer.grpo.reward_config import default_rewards


class RecordingGenerator:
    """Writes `story ROW-SAMPLE` for each job and remembers which jobs it was given: the store
    is code around the model, so the model itself is not what is tested here."""

    def __init__(self) -> None:
        self.jobs: list[tuple[int, int]] = []

    def describe(self) -> dict[str, str]:
        return {"backend": "recording", "model": "none"}

    def generate(self, jobs: list[Job], on_done: Callable[[Completion], None]) -> None:
        for job in reversed(jobs):  # any order: the store must put them back in order
            self.jobs.append((job.row, job.sample))
            on_done(Completion(job.row, job.sample, f"story {job.row}-{job.sample}", 3, False))


ROWS = [
    PromptRow(messages=[{"role": "user", "content": f"Tell tale {i}."}], columns={})
    for i in range(2)
]


@pytest.mark.parametrize("module", [commands, generation, intervals, prompts, table])
def test_doctests_pass(module: object) -> None:
    assert doctest.testmod(module).failed == 0  # type: ignore[arg-type]


def test_the_store_generates_only_what_is_missing_and_drops_a_torn_line(tmp_path: Path) -> None:
    identity = {"model": "m", "sampling": {"seed": 0}}
    first = RecordingGenerator()
    records = CompletionsStore(tmp_path / "m" / COMPLETIONS_FILE, identity).complete(
        first, ROWS, num_samples=1
    )
    assert first.jobs == [(1, 0), (0, 0)]
    assert [r["completion"] for r in records] == ["story 0-0", "story 1-0"]
    assert records[0]["prompt"] == "Tell tale 0."
    path = tmp_path / "m" / "completions.jsonl"
    with path.open("a", encoding="utf-8") as handle:
        handle.write('{"row": 0, "sample": 1, "compl')  # a crash in the middle of a line

    second = RecordingGenerator()
    records = CompletionsStore(tmp_path / "m" / COMPLETIONS_FILE, identity).complete(
        second, ROWS, num_samples=2
    )
    assert sorted(second.jobs) == [(0, 1), (1, 1)]
    assert [(r["row"], r["sample"]) for r in records] == [(0, 0), (0, 1), (1, 0), (1, 1)]
    lines = path.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 4 and all(json.loads(line) for line in lines)


def test_the_store_refuses_completions_generated_differently(tmp_path: Path) -> None:
    CompletionsStore(tmp_path / COMPLETIONS_FILE, {"model": "a", "seed": 0}).complete(
        RecordingGenerator(), ROWS, num_samples=1
    )
    with pytest.raises(ValueError, match=r"generated differently \(model: 'a' -> 'b'\)"):
        CompletionsStore(tmp_path / COMPLETIONS_FILE, {"model": "b", "seed": 0})


def test_a_model_trained_further_in_the_same_folder_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "final"
    folder.mkdir()
    (folder / "model.safetensors").write_bytes(b"after 17 steps")
    (folder / "training_args.bin").write_bytes(b"not weights")

    def identity() -> dict[str, str]:
        generator = TransformersGenerator(
            str(folder), SamplingSettings(), batch_size=1, cache_dir=tmp_path
        )
        return generator.describe()

    store_path = tmp_path / "eval" / COMPLETIONS_FILE
    CompletionsStore(store_path, identity()).complete(RecordingGenerator(), ROWS, num_samples=1)
    (folder / "training_args.bin").write_bytes(b"other arguments, same weights")
    CompletionsStore(store_path, identity())  # only the weights count
    (folder / "model.safetensors").write_bytes(b"after 24 steps")
    with pytest.raises(ValueError, match=r"generated differently \(weights: '[0-9a-f]{16}' ->"):
        CompletionsStore(store_path, identity())


def test_completions_are_measured_for_distinct_bigrams_and_words() -> None:
    profile = StylometryProfile.from_texts(
        {"ann": ["the captain and the mate sat upon the deck " * 30], "bo": ["a boat " * 200]},
        "ann",
        top_words=5,
        segment_words=40,
    )
    texts = ["The cat sat on the cat.", "Alone.", ""]
    completions = [
        {"row": i, "sample": 0, "completion": text, "truncated": False}
        for i, text in enumerate(texts)
    ]
    rows = [PromptRow(messages=[{"role": "user", "content": "Tell."}], columns={})] * 3
    scored = score_completions([], completions, rows, profile)
    assert [s["words"] for s in scored] == [6, 1, 0]
    assert scored[0]["distinct_2"] == 0.8  # "the cat" twice among five bigrams
    assert math.isnan(scored[1]["distinct_2"]) and math.isnan(scored[2]["distinct_2"])


def test_prompt_files_are_checked(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"test\.jsonl"):
        load_prompt_rows(tmp_path)
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"prompt": "ok"}\n{"sample_text": "no prompt"}\n', encoding="utf-8")
    with pytest.raises(ValueError, match=r"bad\.jsonl:2: each row needs a `prompt`"):
        load_prompt_rows(bad)
    bad.write_text('{"prompt": "ok"}\n{"prompt": \n', encoding="utf-8")
    with pytest.raises(ValueError, match=r"bad\.jsonl:2: not a JSON line"):
        load_prompt_rows(bad)


def test_sampling_settings_name_every_bad_value() -> None:
    with pytest.raises(ValueError, match=r"max_new_tokens must be >= 1.*top_p must be in"):
        SamplingSettings(max_new_tokens=0, top_p=1.5)


def test_two_models_need_distinct_names(tmp_path: Path) -> None:
    sampling = SamplingSettings()
    setup = EvaluationSetup(
        prompts=tmp_path, out=tmp_path, rewards=default_rewards(), books=tmp_path, author="x"
    )
    twins = [
        ModelToEvaluate("final", "a/final", sampling),
        ModelToEvaluate("final", "b/final", sampling),
    ]
    with pytest.raises(ValueError, match=r"distinct names.*\['final', 'final'\].*--name2"):
        evaluate(twins, setup)


def test_eval_names_each_unreachable_service_before_generating(tmp_path: Path) -> None:
    (tmp_path / "test.jsonl").write_text('{"prompt": "Tell a tale."}\n', encoding="utf-8")
    urls = [f"http://127.0.0.1:{free_port()}" for _ in range(3)]
    args = [
        "eval", "--prompts", str(tmp_path), "--model", "no/such-model",
        "--out", str(tmp_path / "out"), "--books", str(tmp_path),
        "--style-url", urls[0], "--judge-url", urls[1], "--completeness-url", urls[2],
    ]  # fmt: skip
    result = CliRunner().invoke(build_app(), args)
    assert result.exit_code == 1
    for url, service in zip(urls, ["style", "judge", "completeness"], strict=True):
        assert f"the {service} service at {url} is unreachable" in result.output
    assert "stylegrpo serve judge" in result.output
    assert not (tmp_path / "out").exists(), "nothing is generated while a service is down"
