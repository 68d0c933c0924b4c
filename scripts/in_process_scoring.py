"""What the measurement scripts share: a reward's scorer in this process, fed in batches."""

from __future__ import annotations

from typing import Any

from services.common.scorer import ScoredBatch, Scorer
from shared.schemas import ScoreRequest


async def score_in_batches(
    scorer: Scorer, texts: list[str], prompts: list[str], *, batch: int, **request: Any
) -> ScoredBatch:
    """`texts` (with their prompts) scored `batch` at a time, as the trainer sends them; `request`
    adds the other fields of each `ScoreRequest` (`profile`, `details`)."""
    scores: list[float] = []
    details: list[dict[str, Any]] = []
    for start in range(0, len(texts), batch):
        scored = await scorer.score(
            ScoreRequest(
                texts=texts[start : start + batch],
                prompts=prompts[start : start + batch],
                **request,
            )
        )
        scores += scored.scores
        details += scored.details or []
    return ScoredBatch(scores=scores, details=details if request.get("details") else None)
