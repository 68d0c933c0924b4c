"""The content judge: rubric expected score and fluency from one judge pass, then the checks."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from services.common.calibration import Calibration, fit_calibration
from services.common.scorer import ScoredBatch, WithoutProfiles
from services.judge.backends.base import JudgeBackend, JudgeOutput
from services.judge.cache import ResultCache, result_key
from services.judge.expected_score import expected_score
from services.judge.fluency import calibration_passages, scramble
from services.judge.prechecks import CheckSettings, run_checks
from services.judge.prompting import render_prompt
from services.judge.rubrics import Rubric, builtin_rubrics
from services.judge.settings import JudgeSettings
from shared.schemas import ScoreRequest

log = logging.getLogger(__name__)
CALIBRATION_PROMPT = "Write a short passage."


@dataclass(frozen=True)
class Judgement:
    """What the judge model said of one (prompt, story), before the checks."""

    rubric_score: float
    distribution: dict[str, float]
    argmax: str
    score_token_mass: float
    story_logprob: float
    story_tokens: int
    truncated_tokens: int


class JudgeScorer(WithoutProfiles):
    """Scores stories by an LLM judge's expected rubric score and their fluency under it."""

    service = "judge"

    def __init__(self, settings: JudgeSettings, backend: JudgeBackend) -> None:
        self._settings = settings
        self._rubric: Rubric = builtin_rubrics()[settings.rubric]
        self._backend = backend
        self._checks = CheckSettings(
            end_marker=settings.end_marker,
            forbidden_names=settings.forbidden_names,
            repetition_threshold=settings.repetition_threshold,
            telltale_words=settings.telltale_words,
        )
        self._cache: ResultCache[Judgement] = ResultCache(settings.cache_size)
        self._fluency: Calibration | None = None

    @property
    def model(self) -> str:
        """The judge model."""
        return self._backend.name

    def load(self) -> None:
        """Load the judge model and fit the fluency calibration on well-formed vs scrambled text."""
        self._backend.load()
        passages = calibration_passages(
            self._settings.books_dir, self._settings.calibration_passages
        )
        scrambled = [scramble(p, seed=i) for i, p in enumerate(passages)]
        judged = asyncio.run(
            self._judge([CALIBRATION_PROMPT] * (2 * len(passages)), passages + scrambled)
        )
        logprobs = np.array([j.story_logprob for j in judged])
        self._fluency = fit_calibration(logprobs[: len(passages)], logprobs[len(passages) :])
        log.info(
            "fluency calibration: well-formed %.3f vs scrambled %.3f nats/token, AUC %.3f",
            self._fluency.same_mean,
            self._fluency.other_mean,
            self._fluency.auc,
        )

    def describe(self) -> dict[str, Any]:
        """Rubric, weights, checks and the fluency calibration, for `/info`."""
        return {
            "backend": self._settings.backend,
            "rubric": self._rubric.key,
            "rubric_scores": self._rubric.scores,
            "checks": {
                name: effect.model_dump(exclude_none=True)
                for name, effect in self._rubric.checks.items()
            },
            "weights": {
                "rubric": self._settings.rubric_weight,
                "fluency": self._settings.fluency_weight,
            },
            "fluency_calibration": self._fluency.to_dict() if self._fluency else None,
            "cache": {"size": self._cache.size, "entries": len(self._cache)},
        }

    def counters(self) -> dict[str, float]:
        """Result-cache hits and misses, for `/metrics`."""
        return {"judge_cache_hits": self._cache.hits, "judge_cache_misses": self._cache.misses}

    async def score(self, request: ScoreRequest) -> ScoredBatch:
        """Judge each (prompt, story); apply the rubric's checks to the combined score."""
        if self._fluency is None:
            raise RuntimeError("JudgeScorer.score called before load()")
        self.reject_profile(request)
        prompts = request.prompts or [""] * len(request.texts)
        judged = await self._judge(prompts, request.texts)
        scores, details = [], []
        for story, judgement in zip(request.texts, judged, strict=True):
            score, detail = self._combine(story, judgement)
            scores.append(score)
            details.append(detail)
        return ScoredBatch(scores=scores, details=details if request.details else None)

    async def aclose(self) -> None:
        """Release the backend."""
        await self._backend.aclose()

    async def _judge(self, prompts: list[str], stories: list[str]) -> list[Judgement]:
        keys = [
            result_key(self.model, self._rubric.key, p, s)
            for p, s in zip(prompts, stories, strict=True)
        ]
        cached = [self._cache.get(key) for key in keys]
        todo = [i for i, hit in enumerate(cached) if hit is None]
        rendered = await asyncio.to_thread(
            lambda: [
                render_prompt(
                    self._backend.tokenizer,
                    self._rubric,
                    prompts[i],
                    stories[i],
                    max_tokens=self._backend.max_tokens,
                )
                for i in todo
            ]
        )
        outputs = await self._backend.evaluate([r for r, _ in rendered], self._rubric.scores)
        for i, (_, cut), output in zip(todo, rendered, outputs, strict=True):
            cached[i] = self._judgement(output, cut)
            self._cache.put(keys[i], cached[i])  # type: ignore[arg-type]
        return [j for j in cached if j is not None]

    def _judgement(self, output: JudgeOutput, truncated_tokens: int) -> Judgement:
        distribution = expected_score(output.score_logprobs, self._rubric.scores)
        return Judgement(
            rubric_score=distribution.expected,
            distribution=distribution.probabilities,
            argmax=distribution.argmax,
            score_token_mass=distribution.mass,
            story_logprob=output.story_logprob,
            story_tokens=output.story_tokens,
            truncated_tokens=truncated_tokens,
        )

    def _combine(self, story: str, judgement: Judgement) -> tuple[float, dict[str, Any]]:
        assert self._fluency is not None
        checks = run_checks(story, self._checks)
        # Repetition makes likelihood cheap, so a repetitive story earns no fluency.
        fluency = (
            0.0
            if "repetition" in checks.failed
            else float(self._fluency.apply(np.array([judgement.story_logprob]))[0])
        )
        weights = self._settings.rubric_weight + self._settings.fluency_weight
        ungated = (
            self._settings.rubric_weight * judgement.rubric_score
            + self._settings.fluency_weight * fluency
        ) / weights
        score, gates = ungated, {}
        for name, found in checks.failed.items():
            effect = self._rubric.checks.get(name)  # type: ignore[call-overload]
            if effect is not None:
                before, severity = score, checks.severity[name]
                score = effect.apply(score, severity)
                # The share of the score this gate kept (1.0 when there was nothing to cut).
                kept = score / before if before > 0 else 1.0
                gates[name] = {
                    "found": found,
                    "effect": effect.effect,
                    "severity": severity,
                    "factor": kept,
                }
        detail = {
            **asdict(judgement),
            "fluency": fluency,
            "checks_failed": checks.failed,
            "gates": gates,
            "repetition_ratio": checks.repetition_ratio,
            "ungated_score": ungated,
            "score": score,
        }
        return min(1.0, max(0.0, score)), detail
