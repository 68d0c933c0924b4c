"""`stylegrpo data policy-samples`: the policy's stories, resumable, with prompt and plot."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from stylegrpo.cli import build_app
from trainer.data.policy_samples import PolicySampling, build_policy_samples, identity_path
from trainer.evaluation.generation import Completion, Job, SamplingSettings
from trainer.evaluation.local_generator import TransformersGenerator
from trainer.grpo.prompts import PLOTS

SAMPLING = SamplingSettings(max_new_tokens=6, seed=3)


class Interrupted(Exception):
    """Stands for a kill in the middle of generation."""


class InterruptedGenerator(TransformersGenerator):
    """The real generator, stopped after `stop_after` completions as a crash would stop it."""

    def __init__(self, model: Path, cache_dir: Path, stop_after: int) -> None:
        super().__init__(str(model), SAMPLING, batch_size=2, cache_dir=cache_dir)
        self.stop_after = stop_after

    def generate(self, jobs: list[Job], on_done: Callable[[Completion], None]) -> None:
        done = 0

        def count(completion: Completion) -> None:
            nonlocal done
            if done == self.stop_after:
                raise Interrupted
            done += 1
            on_done(completion)

        super().generate(jobs, count)


def read(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.mark.slow
def test_an_interrupted_run_resumes_without_duplicates(tiny_policy: Path, tmp_path: Path) -> None:
    out = tmp_path / "policy" / "base.jsonl"
    settings = PolicySampling(count=2, limit=3, sampling=SAMPLING)
    with pytest.raises(Interrupted):
        build_policy_samples(InterruptedGenerator(tiny_policy, tmp_path, 3), settings, out)
    assert len(read(out)) == 3
    records = build_policy_samples(InterruptedGenerator(tiny_policy, tmp_path, 100), settings, out)
    saved = read(out)
    keys = [(r["row"], r["sample"]) for r in saved]
    assert len(keys) == len(set(keys)) == 6 and len(records) == 6
    assert [(r["row"], r["sample"]) for r in records] == sorted(keys)
    assert {r["plot"] for r in saved} == set(PLOTS[:3])
    assert all(str(r["prompt"]).startswith("Write a story about") for r in saved)
    assert json.loads(identity_path(out).read_text())["sampling"]["max_new_tokens"] == 6


@pytest.mark.slow
def test_the_command_writes_stories_and_refuses_other_sampling(
    tiny_policy: Path, tmp_path: Path
) -> None:
    out = tmp_path / "base.jsonl"
    command = [
        "data", "policy-samples", "--model", str(tiny_policy), "--out", str(out),
        "--count", "2", "--limit", "2", "--max-new-tokens", "5", "--cache-dir", str(tmp_path),
    ]  # fmt: skip
    result = CliRunner().invoke(build_app(), command)
    assert result.exit_code == 0, result.output
    assert "4 stories" in result.output and len(read(out)) == 4
    again = CliRunner().invoke(build_app(), [*command[:-2], "--temperature", "0.5"])
    assert again.exit_code == 1 and "generated differently" in again.output
    wrong = CliRunner().invoke(build_app(), [*command[:5], str(tmp_path / "base.txt")])
    assert wrong.exit_code == 1 and "must be a .jsonl file" in wrong.output
