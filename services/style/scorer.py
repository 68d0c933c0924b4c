"""The style scorer: every window of a text against an author profile or a reference text."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from services.common.scorer import InvalidInputError, ScoredBatch
from services.style.aggregate import (
    evidence_weight,
    tempered,
    with_evidence,
)
from services.style.classifier.anchor import AuthorshipAnchor, ClassifierSampling, build_anchor
from services.style.encoding.batcher import EncodeBatcher
from services.style.encoding.encoder import WindowEncoder
from services.style.encoding.windows import WindowedText, split_windows
from services.style.explanations import score_reasons
from services.style.guards.combined import GuardReport, TextGuards
from services.style.profiles.discriminant import ProfileSet, build_profiles, unit
from services.style.profiles.policy_texts import POLICY_AUTHOR, policy_windows, read_policy_texts
from services.style.profiles.window_cache import load_corpus_embeddings
from services.style.settings import StyleSettings
from services.style.text_scores import row_ranges, score_text, window_texts
from shared.author_names import blank_names, load_author_names, names_pattern
from shared.book_folder import find_books, negative_sources
from shared.schemas import ScoreRequest, StyleDetails
from shared.typography import NormalisedText, normalise, normalised_text

if TYPE_CHECKING:
    from fastapi import APIRouter

log = logging.getLogger(__name__)


class StyleScorer:
    """Scores how much each text reads like an author, judging every part of it."""

    service = "style"

    def __init__(self, settings: StyleSettings) -> None:
        self._settings = settings
        self._encoder: WindowEncoder | None = None
        self._profiles: ProfileSet | None = None
        self._batcher: EncodeBatcher | None = None
        self._anchor: AuthorshipAnchor | None = None
        self._guards: TextGuards | None = None
        self._policy: dict[str, int] | None = None
        self._tokenizer_lock = threading.Lock()
        self._names = (
            names_pattern(n for a in load_author_names(settings.names_file).values() for n in a.all)
            if settings.blank_names
            else None
        )

    @property
    def model(self) -> str:
        """The encoder's name."""
        return self._encoder.name if self._encoder else (self._settings.model or "unloaded")

    @property
    def profiles(self) -> list[str]:
        """Author profiles built from the books folder."""
        return sorted(self._profiles.profiles) if self._profiles else []

    @property
    def default_profile(self) -> str | None:
        """The profile used when a request names neither a profile nor references."""
        return self._settings.default_profile

    def load(self) -> None:
        """Load the encoder and build (or read from cache) every author profile."""
        settings = self._settings
        encoder = WindowEncoder(
            settings.model,
            device=settings.device,
            batch_size=settings.encode_batch_size,
            batch_tokens=settings.encode_batch_tokens,
            backend=settings.backend,
            precision=settings.precision,
            cache_dir=settings.cache_dir,
        )
        if settings.window_overlap_tokens * 2 >= encoder.window_tokens:
            raise ValueError(
                f"STYLE_WINDOW_OVERLAP_TOKENS={settings.window_overlap_tokens} is half or more of "
                f"the encoder's {encoder.window_tokens}-token windows ({encoder.name}); set it "
                f"below {encoder.window_tokens // 2}"
            )
        books = find_books(settings.books_dir)
        if not books:
            raise FileNotFoundError(
                f"no books in STYLE_BOOKS_DIR={settings.books_dir}: expected "
                "AUTHOR--TITLE.txt files or AUTHOR/TITLE.txt folders"
            )
        # Profiles and the classifier learn from the books as they will score texts: names
        # blanked, in the house typography. The guards keep the names.
        names, typography = self._names, settings.normalise_typography
        learned = [replace(b, blanked_names=names, typography=typography) for b in books]
        negatives = [
            replace(b, blanked_names=names, typography=typography)
            for b in negative_sources(settings.negative_texts)
        ]
        policy_texts = read_policy_texts(settings.policy_texts)
        policy = policy_windows(
            policy_texts,
            encoder.tokenizer,
            window_tokens=encoder.window_tokens,
            overlap_tokens=settings.window_overlap_tokens,
            names=names,
            typography=typography,
        )
        corpus = load_corpus_embeddings(
            learned,
            encoder,
            windows_per_book=settings.windows_per_book,
            windows_per_negative=settings.windows_per_negative,
            cache_dir=settings.cache_dir,
            negatives=negatives,
            policy=policy,
        )
        authors = sorted({book.author for book in books})
        profiles = build_profiles(corpus, authors, contrast_only={POLICY_AUTHOR})
        if settings.default_profile and settings.default_profile not in profiles.profiles:
            raise ValueError(
                f"STYLE_DEFAULT_PROFILE={settings.default_profile!r} has no books in "
                f"{settings.books_dir}; authors there: {', '.join(sorted(profiles.profiles))}"
            )
        anchor = None
        if settings.classifier:
            anchor = build_anchor(
                learned,
                negatives,
                corpus,
                authors,
                tokenizer=encoder.tokenizer,
                tokenizer_name=encoder.name,
                window_tokens=encoder.window_tokens,
                sampling=ClassifierSampling(
                    windows_per_book=settings.classifier_windows_per_book,
                    windows_per_negative=settings.classifier_windows_per_negative,
                    folds=settings.classifier_folds,
                    stuffing=settings.classifier_stuffing,
                    policy_share=settings.policy_weight,
                ),
                cache_dir=settings.cache_dir,
                policy=policy,
            )
        for name, profile in profiles.profiles.items():
            log.info(
                "profile %s: %d books, %d windows, held-out window AUC %.3f%s",
                name,
                profile.books,
                profile.windows,
                profile.calibration.auc,
                f" (encoder), {anchor.calibrations[name].auc:.3f} (with the n-gram classifier)"
                if anchor
                else "",
            )
        guards = TextGuards.build(
            settings,
            [replace(b, typography=typography) for b in books],
            [replace(b, typography=typography) for b in negative_sources(settings.negative_texts)],
        )
        self._encoder, self._profiles, self._anchor, self._guards = (
            encoder,
            profiles,
            anchor,
            guards,
        )
        self._policy = {
            "files": len(settings.policy_texts),
            "texts": len(policy_texts),
            "prompts": len({t.prompt for t in policy_texts}),
            "windows": len(policy),
        }
        self._batcher = EncodeBatcher(
            encoder.encode,
            max_batch_tokens=settings.max_batch_tokens,
            max_wait_s=settings.max_wait_ms / 1000,
        )

    def counters(self) -> dict[str, float]:
        """No running totals beyond the HTTP layer's."""
        return {}

    def routers(self) -> Sequence[APIRouter]:
        """The scoring page for people (`GET /`), served beside the shared routes."""
        from services.style.page.routes import router

        return [router]

    def describe(self) -> dict[str, Any]:
        """Windowing, aggregation and each profile's calibration, for `/info`."""
        if self._encoder is None or self._profiles is None:
            return {}
        return {
            "window_tokens": self._encoder.window_tokens,
            "window_overlap_tokens": self._settings.window_overlap_tokens,
            "aggregate": "token-weighted geometric mean of window scores",
            "device": self._encoder.device,
            "calibration": {
                name: {"books": p.books, "windows": p.windows, **p.calibration.to_dict()}
                for name, p in self._profiles.profiles.items()
            },
            "classifier": {name: c.to_dict() for name, c in self._anchor.calibrations.items()}
            if self._anchor
            else None,
            "reference_calibration": self._profiles.reference_calibration.to_dict(),
            "blanked_names": self._names is not None,
            "typography_normalised": self._settings.normalise_typography,
            "evidence": {
                "min_words": self._settings.evidence_min_words,
                "full_words": self._settings.evidence_full_words,
                "prior": self._settings.evidence_prior,
            },
            "policy_texts": {**(self._policy or {}), "weight": self._settings.policy_weight},
            **(self._guards.describe() if self._guards else {}),
        }

    async def score(self, request: ScoreRequest) -> ScoredBatch:
        """Score each text's windows against the chosen profile or its own reference."""
        if self._profiles is None:
            raise RuntimeError("StyleScorer.score called before load()")
        target = self._target(request)
        settings = self._settings
        normalised, windowed = await asyncio.to_thread(self._prepare, request.texts)
        texts = [n.text for n in normalised]
        rows = row_ranges(windowed)
        # The guards and the n-gram classifier need no embeddings: they run while the encoder
        # works, so their CPU time hides behind it.
        guards = asyncio.ensure_future(
            asyncio.to_thread(self._guard_reports, request.texts, request.references, target)
        )
        anchor = self._anchor if request.references is None else None
        decisions = (
            asyncio.ensure_future(
                asyncio.to_thread(anchor.classifier.decision, window_texts(texts, windowed), target)
            )
            if anchor is not None
            else None
        )
        try:
            similarity, window_scores, classifier = await self._window_scores(
                request, target, texts, windowed, rows, decisions
            )
            guarded = await guards
        finally:
            for task in (guards, decisions):
                if task is not None and not task.done():
                    task.cancel()
        scores, details = [], []
        for i, (split, (a, b)) in enumerate(zip(windowed, rows, strict=True)):
            score, windows = score_text(
                normalised[i],
                split,
                similarity[a:b],
                window_scores[a:b],
                None if classifier is None else classifier[a:b],
            )
            word_count = len(request.texts[i].split())
            evidence = evidence_weight(
                word_count, settings.evidence_min_words, settings.evidence_full_words
            )
            guard = guarded[i]
            copy = guard.copy
            scores.append(with_evidence(score, evidence, settings.evidence_prior) * guard.factor)
            details.append(
                StyleDetails(
                    windows=windows,
                    coverage=split.coverage,
                    evidence_weight=evidence,
                    mode="profile" if target else "reference",
                    profile=target or None,
                    copied_fraction=copy.copied_fraction if copy else None,
                    longest_copied_words=copy.longest_copied_words if copy else None,
                    copy_penalty_factor=copy.penalty_factor if copy else None,
                    known_ngram_fraction=guard.known_ngram_fraction,
                    prose_factor=guard.prose_factor,
                    repeated_bigram_fraction=guard.repeated_bigram_fraction,
                    repetition_factor=guard.repetition_factor,
                    copied_from=guard.copied_from,
                    reasons=score_reasons(
                        words=word_count,
                        evidence=evidence,
                        guard=guard,
                        settings=settings,
                        profile=target,
                    ),
                ).model_dump()
            )
        return ScoredBatch(scores=scores, details=details if request.details else None)

    async def _window_scores(
        self,
        request: ScoreRequest,
        target: str,
        texts: list[str],
        windowed: list[WindowedText],
        rows: list[tuple[int, int]],
        decisions: asyncio.Future[NDArray[np.float64]] | None,
    ) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64] | None]:
        """(similarity, calibrated score, classifier decision or None) of every window."""
        profiles = self._profiles
        assert profiles is not None
        classifier: NDArray[np.float64] | None = None
        if request.references is None:
            profile = profiles.profiles[target]
            embeddings = unit(await self._embed(texts, windowed))
            similarity = (embeddings @ profile.direction).astype(np.float64)
            if decisions is None or self._anchor is None:
                window_scores = profile.calibration.apply(similarity)
            else:
                classifier = await decisions
                window_scores = self._anchor.calibrations[target].apply(similarity, classifier)
        else:
            prepared, references = await asyncio.to_thread(self._prepare, request.references)
            reference_texts = [n.text for n in prepared]
            empty = [i for i, r in enumerate(references) if not r.windows]
            if empty:
                raise InvalidInputError(f"references[{empty[0]}] is empty: nothing to compare with")
            embeddings = profiles.centre(
                await self._embed(texts + reference_texts, windowed + references)
            )
            reference_rows = embeddings[rows[-1][1] if rows else 0 :]
            similarity = np.concatenate(
                [np.zeros(0)]
                + [
                    (embeddings[a:b] @ unit(reference_rows[c:d].mean(axis=0))).astype(np.float64)
                    for (a, b), (c, d) in zip(rows, row_ranges(references), strict=True)
                ]
            )
            window_scores = profiles.reference_calibration.apply(similarity)
        return similarity, tempered(window_scores, self._settings.score_temperature), classifier

    def _prepare(self, texts: list[str]) -> tuple[list[NormalisedText], list[WindowedText]]:
        """The texts as they are scored (names blanked, in the house typography, with offsets
        back to the texts as sent) and their windows; run off the event loop."""
        blanked = self._blanked(texts)
        if self._settings.normalise_typography:
            normalised = [normalise(t) for t in blanked]
        else:
            normalised = [NormalisedText(t, list(range(len(t) + 1))) for t in blanked]
        return normalised, self._split_all([n.text for n in normalised])

    def _guard_reports(
        self, texts: list[str], references: list[str] | None, target: str
    ) -> list[GuardReport]:
        """The guards' reports on the texts (and references) in the house typography."""
        assert self._guards is not None
        return self._guards.reports(
            self._typeset(texts), None if references is None else self._typeset(references), target
        )

    def _typeset(self, texts: list[str]) -> list[str]:
        """The texts in the house typography, when it is on."""
        if not self._settings.normalise_typography:
            return texts
        return [normalised_text(t) for t in texts]

    def _blanked(self, texts: list[str]) -> list[str]:
        """The texts with every listed name blanked (same length, so offsets hold)."""
        names = self._names
        return texts if names is None else [blank_names(t, names) for t in texts]

    async def _embed(self, texts: list[str], splits: list[WindowedText]) -> NDArray[np.float32]:
        """Raw embeddings of every window of every text, in order, through the batcher."""
        assert self._batcher is not None and self._profiles is not None
        windows = window_texts(texts, splits)
        if not windows:
            return np.zeros((0, self._profiles.background.size), dtype=np.float32)
        tokens = [w.tokens for s in splits for w in s.windows]
        return await self._batcher.encode(windows, tokens)

    async def aclose(self) -> None:
        """Stop the batcher's worker."""
        if self._batcher is not None:
            await self._batcher.aclose()

    def _target(self, request: ScoreRequest) -> str:
        """The profile to score against, or "" when each text has its own reference."""
        if request.references is not None:
            if request.profile is not None:
                raise InvalidInputError("give either `profile` or `references`, not both")
            return ""
        name = request.profile or self.default_profile
        if name is None:
            raise InvalidInputError(
                "no `profile` or `references` given and the service has no default profile; "
                f"profiles: {', '.join(self.profiles)}"
            )
        if name not in self.profiles:
            raise InvalidInputError(
                f"unknown profile {name!r}; profiles: {', '.join(self.profiles)}"
            )
        return name

    def _split_all(self, texts: list[str]) -> list[WindowedText]:
        assert self._encoder is not None
        with self._tokenizer_lock:  # one tokenizer, many request threads
            return [
                split_windows(
                    text,
                    self._encoder.tokenizer,
                    window_tokens=self._encoder.window_tokens,
                    overlap_tokens=self._settings.window_overlap_tokens,
                )
                for text in texts
            ]
