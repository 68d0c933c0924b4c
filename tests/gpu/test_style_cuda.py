"""The style service on CUDA scores like it does on CPU, and how fast each scores."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pytest

if TYPE_CHECKING:
    from services.style.settings import StyleSettings

# Window scores are calibrated probabilities; CUDA kernels differ from CPU ones in the last bits
# (fp32) or keep 8-11 bits of mantissa (bf16/fp16, cosine to fp32 >= 0.998 measured on the CPU),
# which moves a text's score by less than this.
SCORE_TOLERANCE = 0.02


def style_scorer(
    settings: StyleSettings, device: str, *, backend: str = "torch", precision: str = "auto"
) -> Any:
    from services.style.scorer import StyleScorer

    update = {"device": device, "backend": backend, "precision": precision}
    return StyleScorer(settings.model_copy(update=update))


@pytest.mark.gpu
@pytest.mark.slow
@pytest.mark.parametrize("precision", ["fp32", "bf16", "fp16"])
def test_cuda_scores_match_cpu_within_tolerance(
    precision: str,
    style_settings: StyleSettings,
    twain_passages: list[str],
    doyle_passages: list[str],
    scored: Any,
) -> None:
    texts = twain_passages + doyle_passages
    on_cpu, cpu_rate = scored(style_scorer(style_settings, "cpu", precision="fp32"), texts)
    on_cuda, cuda_rate = scored(style_scorer(style_settings, "cuda", precision=precision), texts)
    print(
        f"style service: {cpu_rate:.1f} texts/s on cpu (torch fp32), "
        f"{cuda_rate:.1f} texts/s on cuda ({precision})"
    )
    np.testing.assert_allclose(on_cuda, on_cpu, atol=SCORE_TOLERANCE)
    twain, doyle = len(twain_passages), len(doyle_passages)
    assert np.mean(on_cuda[:twain]) > np.mean(on_cuda[twain : twain + doyle])


@pytest.mark.slow
def test_the_shared_scoring_helper_on_cpu(tmp_path: Path, scored: Any) -> None:
    """The CPU path of the helper the GPU tests time scorers with, on four tiny books."""
    from services.style.settings import StyleSettings

    books = tmp_path / "books"
    books.mkdir()
    topics = {"ann--one": "steamboat", "ann--two": "raft", "bob--one": "lamp", "bob--two": "fog"}
    for name, topic in topics.items():
        sentences = [f"The {topic} number {i} was spoken of along the river." for i in range(200)]
        (books / f"{name}.txt").write_text(" ".join(sentences), encoding="utf-8")
    settings = StyleSettings(
        books_dir=books,
        cache_dir=tmp_path / "cache",
        default_profile="ann",
        windows_per_book=2,
        classifier_windows_per_book=4,
        classifier_folds=2,
    )
    texts = ["The raft drifted down the river at night.", "The lamp burned low in the study."]
    scores, rate = scored(style_scorer(settings, "cpu"), texts)
    assert len(scores) == 2 and all(0.0 <= s <= 1.0 for s in scores)
    assert rate > 0
