"""Score completions: the three reward services over HTTP (concurrently, in chunks, with a
progress bar), the copied fraction the style service's copy guard found, the independent
stylometric measure and author-LM ratio, and length in words."""

from __future__ import annotations

import asyncio
import math
from typing import Any

from shared.client import RewardClient, RewardServiceError
from shared.text import distinct_ngram_fraction, words
from trainer.evaluation.author_lm import AuthorLmMeasures
from trainer.evaluation.prompts import PromptRow
from trainer.evaluation.stylometry import StylometryProfile
from trainer.grpo.reward_config import RewardSpec

CHUNK = 16  # texts per request: small enough that the progress bar moves on long stories
# Requests in flight per service: enough to overlap HTTP with scoring, few enough that a queued
# request never waits out its read timeout behind the others.
IN_FLIGHT = 2


class EvaluationError(RuntimeError):
    """A reward service is unreachable, not ready, or failed while scoring."""


async def check_services(specs: list[RewardSpec]) -> None:
    """Raise `EvaluationError` naming every service (and URL) that is down or is the wrong one."""

    async def problem(spec: RewardSpec) -> str | None:
        where = f"the {spec.service} service at {spec.url}"
        async with RewardClient(spec.url, api_key=spec.api_key, max_retries=1) as client:
            if not await client.ready():
                return (
                    f"{where} is unreachable or not ready (GET {spec.url}/ready did not answer "
                    f"200): start it with `stylegrpo serve {spec.service}` or pass "
                    f"--{spec.service}-url"
                )
            try:
                info = await client.info()
            except RewardServiceError as exc:
                return f"{where}: GET /info failed: {exc}"
        if info.service != spec.service:
            return f"{where} answers as the {info.service!r} service: check --{spec.service}-url"
        if spec.profile and spec.profile not in info.profiles:
            return f"{where} has no profile {spec.profile!r}; it serves {info.profiles}"
        return None

    problems = [p for p in await asyncio.gather(*(problem(s) for s in specs)) if p]
    if problems:
        raise EvaluationError("reward services are not ready:\n  " + "\n  ".join(problems))


def score_completions(
    specs: list[RewardSpec],
    completions: list[dict[str, Any]],
    rows: list[PromptRow],
    stylometry: StylometryProfile,
    language_models: AuthorLmMeasures | None = None,
) -> list[dict[str, Any]]:
    """Per completion: each reward, their weighted `total`, the copied fraction (NaN without a
    style reward or its copy guard), stylometry, Delta, the author-LM measures (with
    `language_models`), distinct bigrams and words."""
    texts = [c["completion"] for c in completions]
    rewards, copied = asyncio.run(_score_rewards(specs, completions, rows))
    measured = stylometry.measure(texts)
    by_lm = language_models.measure(texts) if language_models is not None else {}
    scored: list[dict[str, Any]] = []
    for i, completion in enumerate(completions):
        values: dict[str, float] = {spec.name: rewards[spec.name][i] for spec in specs}
        tokens = words(texts[i])
        scored.append(
            {
                "row": completion["row"],
                "sample": completion["sample"],
                **values,
                "total": sum(spec.weight * values[spec.name] for spec in specs),
                "copied": copied[i],
                "stylometry": measured[i].closeness,
                "stylometry_delta": measured[i].delta,
                **{name: values[i] for name, values in by_lm.items()},
                "distinct_2": distinct_ngram_fraction([w.lower() for w in tokens]),
                "words": len(tokens),
                "truncated": completion["truncated"],
            }
        )
    return scored


async def _score_rewards(
    specs: list[RewardSpec], completions: list[dict[str, Any]], rows: list[PromptRow]
) -> tuple[dict[str, list[float]], list[float]]:
    """Every service's scores for the texts, all services and chunks in flight together; and
    each text's copied fraction from the style service's details (NaN where it has none)."""
    from tqdm import tqdm

    texts = [c["completion"] for c in completions]
    prompts = [rows[c["row"]].text for c in completions]
    references = {spec.name: _references(spec, completions, rows) for spec in specs}
    starts = range(0, len(texts), CHUNK)
    results: dict[str, list[list[float]]] = {spec.name: [[] for _ in starts] for spec in specs}
    copied = [math.nan] * len(texts)
    copy_source = next((spec.name for spec in specs if spec.service == "style"), None)
    gates = {spec.name: asyncio.Semaphore(IN_FLIGHT) for spec in specs}
    clients = {
        spec.name: RewardClient(
            spec.url,
            api_key=spec.api_key,
            read_timeout=spec.timeout_s,
            max_retries=spec.max_retries,
        )
        for spec in specs
    }
    with tqdm(total=len(specs) * len(starts), desc="scoring", unit="request") as bar:

        async def one(spec: RewardSpec, index: int) -> None:
            window = slice(starts[index], starts[index] + CHUNK)
            spec_references = references[spec.name]
            async with gates[spec.name]:
                try:
                    answer = await clients[spec.name].score(
                        texts[window],
                        prompts=prompts[window],
                        references=spec_references[window] if spec_references else None,
                        profile=None if spec_references else spec.profile,
                        details=spec.name == copy_source,
                    )
                except RewardServiceError as exc:
                    raise EvaluationError(
                        f"the {spec.service} service at {spec.url} failed: {exc}"
                    ) from None
            results[spec.name][index] = answer.scores
            for offset, detail in enumerate(answer.details or []):
                fraction = detail.get("copied_fraction")
                if fraction is not None:
                    copied[starts[index] + offset] = float(fraction)
            bar.update()

        try:
            await asyncio.gather(*(one(spec, i) for spec in specs for i in range(len(starts))))
        finally:
            for client in clients.values():
                await client.aclose()
    flat = {name: [s for chunk in chunks for s in chunk] for name, chunks in results.items()}
    return flat, copied


def _references(
    spec: RewardSpec, completions: list[dict[str, Any]], rows: list[PromptRow]
) -> list[str] | None:
    """The reference text of each completion's row, when the reward scores against one."""
    if not spec.reference_column:
        return None
    missing = sorted(
        {c["row"] for c in completions if spec.reference_column not in rows[c["row"]].columns}
    )
    if missing:
        raise EvaluationError(
            f"the {spec.name} reward reads column {spec.reference_column!r}, which prompt rows "
            f"{missing[:5]} lack"
        )
    return [str(rows[c["row"]].columns[spec.reference_column]) for c in completions]
