"""Delta: a style measure built from function-word frequencies, independent of the rewards.

The rewards judge style with a sentence-transformer; a policy trained against them can learn
what that encoder likes rather than the author's voice. Delta never enters training, so it is
an independent check: it looks only at how often a text uses the commonest function words
("the", "and", "upon", "ain't", ...), which an author uses at steady, individual rates whatever
the topic, and which no reward targets.

Burrows' method (J. Burrows, "'Delta': a Measure of Stylistic Difference and a Guide to Likely
Authorship", Literary and Linguistic Computing 17(3), 2002, pp. 267-287):

1. the vocabulary: the `top_words` most frequent words of the target author's books, taken
   from a fixed list of English function words, so that names and topics never count;
2. each word's relative frequency in equal-length segments of every author's books (at most
   `segments_per_author` per author, spread evenly, so that no prolific author sets the norm);
   the mean and standard deviation of each word over all segments turn a frequency into a
   z-score;
3. an author's profile: the mean z-score vector of that author's segments;
4. Delta(text, author): the distance between the text's z-scores and the author's profile.

Burrows took the mean absolute difference; this module takes the cosine distance ("Cosine
Delta": P. Smith and W. Aldridge, Journal of Quantitative Linguistics 18(1), 2011, pp. 63-88;
S. Evert et al., Digital Scholarship in the Humanities 32(suppl. 2), 2017, pp. ii4-ii16, found it
the most robust variant). Measured on this project's corpus (profiles without two held-out
books, 20 passages each): the Manhattan Delta to Mark Twain ranked held-out Conan Doyle passages
*closer* to Twain than Twain's own (AUC 0.35 at 1,500 words, because Twain's z-scores are more
extreme in every direction), while the cosine Delta separates them (AUC 0.99 at 1,500 words,
0.96 at 400) and generic LLM-written prose too (0.97 and 0.91).

`closeness` turns Deltas into 0..1: Delta to the nearest other author over the sum of that and
the Delta to the target, so it is above 0.5 exactly when the text is nearer the target than
any other author of the reference set. Typical values at 1,500 words: held-out Twain 0.60,
Conan Doyle 0.37, generic LLM prose 0.48. Delta needs words to count: below a few hundred words
its values are noisy, and a text without words gets NaN.

`faststylometry` (PyPI) implements Burrows' Delta but keeps its state in a mutable corpus object
and pulls in pandas, scikit-learn and wget; the formula is a few lines of numpy.

>>> profile = StylometryProfile.from_texts(
...     {"ann": ["the cat and the dog and a bird of the town"] * 2,
...      "bo": ["a cat of a dog of a bird and the town"] * 2},
...     "ann", top_words=4, segment_words=11)
>>> profile.vocabulary
('the', 'and', 'a', 'of')
>>> scores = profile.measure(["and the sun and the moon", "a sun of a moon"])
>>> [round(s.closeness, 2) for s in scores]
[0.97, 0.02]
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from shared.text import words

# Pronouns, determiners, prepositions, conjunctions, auxiliaries, common adverbs and their
# contractions: words whose rates mark an author's habits and say little about the topic.
_FUNCTION_WORDS_TEXT = """
    a about above across after afterward afterwards again against ago all almost alone along
    already also although always am among amongst an and another any anybody anyhow anyone
    anything anyway anywhere are around as at away back be because been before beforehand behind
    being below beside besides between beyond both but by can cannot could did do does doing done
    down during each either else elsewhere enough even ever every everybody everyone everything
    everywhere far few for forth from further furthermore had has have having he hence her here
    hereafter hers herself him himself his how however i if in indeed instead into is it its
    itself just least less like likewise many may maybe me meanwhile merely might mine more
    moreover most mostly much must my myself namely neither never nevertheless next no nobody
    none nor not nothing now nowhere of off often oh on once one only onto or other others
    otherwise ought our ours ourselves out over own perhaps quite rather same seldom several
    shall she should since so some somebody somehow someone something sometimes somewhat
    somewhere soon still such than that the thee their theirs them themselves then thence there
    thereafter thereby therefore these they thine this those thou though through throughout thus
    thy till to together too toward towards under unless until up upon us very was we well were
    what whatever when whence whenever where whereas wherever whether which while whilst whither
    who whoever whole whom whose why will with within without would yes yet you your yours
    yourself yourselves ain't aren't can't couldn't didn't doesn't don't hadn't hasn't haven't
    he'd he'll he's i'd i'll i'm i've isn't it'll it's let's mustn't shan't she'd she'll she's
    shouldn't that's there's they'd they'll they're they've wasn't we'd we'll we're we've weren't
    what's where's who's won't wouldn't you'd you'll you're you've
"""
FUNCTION_WORDS = frozenset(_FUNCTION_WORDS_TEXT.split())


@dataclass(frozen=True)
class StylometryScore:
    """One text's Delta to the target author, to the nearest other author, and the 0..1 measure."""

    delta: float
    rival_delta: float
    closeness: float
    words: int


@dataclass(frozen=True)
class StylometryProfile:
    """Function-word z-score profiles of a target author and the reference authors."""

    author: str
    authors: tuple[str, ...]
    vocabulary: tuple[str, ...]
    mean: NDArray[np.float64]
    std: NDArray[np.float64]
    centroids: NDArray[np.float64]  # one row of mean z-scores per author, in `authors` order

    @classmethod
    def from_books(
        cls,
        folder: Path,
        author: str,
        *,
        top_words: int = 50,
        segment_words: int = 1000,
        segments_per_author: int = 200,
    ) -> StylometryProfile:
        """Profiles from a books folder (`AUTHOR--TITLE.txt`), Gutenberg matter stripped."""
        from shared.book_folder import find_books
        from trainer.data.cleaning import paragraphs

        texts: dict[str, list[str]] = {}
        for book in find_books(folder):
            texts.setdefault(book.author, []).append("\n\n".join(paragraphs(book.read_text())))
        if not texts:
            raise FileNotFoundError(f"no AUTHOR--TITLE.txt books in {folder}")
        return cls.from_texts(
            texts,
            author,
            top_words=top_words,
            segment_words=segment_words,
            segments_per_author=segments_per_author,
        )

    @classmethod
    def from_texts(
        cls,
        texts_by_author: Mapping[str, Sequence[str]],
        author: str,
        *,
        top_words: int = 50,
        segment_words: int = 1000,
        segments_per_author: int = 200,
    ) -> StylometryProfile:
        """Profiles from each author's texts; `author` is the target, the others its rivals."""
        if author not in texts_by_author:
            raise ValueError(
                f"no texts by {author!r}; authors given: {sorted(texts_by_author)} (the books "
                "folder needs AUTHOR--TITLE.txt files of the target author)"
            )
        if len(texts_by_author) < 2:
            raise ValueError(
                f"Delta needs at least one other author besides {author!r} to compare with"
            )
        segments = {
            name: _segments(texts, segment_words, segments_per_author)
            for name, texts in texts_by_author.items()
        }
        empty = [name for name, parts in segments.items() if not parts]
        if empty:
            raise ValueError(f"authors {empty} have no text with {segment_words} words or more")
        counts = Counter(w for segment in segments[author] for w in segment if w in FUNCTION_WORDS)
        vocabulary = tuple(word for word, _ in counts.most_common(top_words))
        authors = tuple(sorted(segments))
        frequencies = {name: _frequencies(parts, vocabulary) for name, parts in segments.items()}
        pooled = np.concatenate([frequencies[name] for name in authors])
        mean = pooled.mean(axis=0)
        # A word no segment varies on carries no information; a unit spread keeps it harmless.
        std = np.where(pooled.std(axis=0) > 0, pooled.std(axis=0), 1.0)
        centroids = np.stack([((frequencies[name] - mean) / std).mean(axis=0) for name in authors])
        return cls(author, authors, vocabulary, mean, std, centroids)

    def deltas(self, texts: Sequence[str]) -> NDArray[np.float64]:
        """Delta of each text (rows) to each author (columns, in `authors` order); NaN rows for
        texts without words."""
        return self._deltas([_tokens(text) for text in texts])

    def measure(self, texts: Sequence[str]) -> list[StylometryScore]:
        """Each text's Delta to the target, to its nearest rival, and the 0..1 closeness."""
        tokens = [_tokens(text) for text in texts]
        deltas = self._deltas(tokens)
        target = self.authors.index(self.author)
        rivals = np.delete(deltas, target, axis=1).min(axis=1)
        scores = []
        for text_tokens, row, rival in zip(tokens, deltas, rivals, strict=True):
            own = float(row[target])
            total = own + float(rival)
            closeness = float(rival) / total if total > 0 else math.nan
            scores.append(StylometryScore(own, float(rival), closeness, len(text_tokens)))
        return scores

    def _deltas(self, tokens: list[list[str]]) -> NDArray[np.float64]:
        z = (_frequencies(tokens, self.vocabulary) - self.mean) / self.std
        result = 1.0 - _unit(z) @ _unit(self.centroids).T
        result[[not t for t in tokens]] = np.nan
        return result


def _unit(rows: NDArray[np.float64]) -> NDArray[np.float64]:
    """Rows scaled to unit length (all-zero rows stay zero)."""
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    return rows / np.where(norms > 0, norms, 1.0)


def _tokens(text: str) -> list[str]:
    """Lower-cased words, with typographic apostrophes made plain so contractions match."""
    return [w.lower().replace("’", "'") for w in words(text)]


def _segments(texts: Sequence[str], segment_words: int, limit: int) -> list[list[str]]:
    """Consecutive `segment_words`-word segments of the texts, at most `limit`, evenly spread."""
    parts = []
    for text in texts:
        tokens = _tokens(text)
        parts += [
            tokens[start : start + segment_words]
            for start in range(0, len(tokens) - segment_words + 1, segment_words)
        ]
    if len(parts) <= limit:
        return parts
    return [parts[i] for i in np.linspace(0, len(parts) - 1, limit).round().astype(int)]


def _frequencies(segments: Sequence[list[str]], vocabulary: tuple[str, ...]) -> NDArray[np.float64]:
    """Relative frequency of each vocabulary word (columns) in each segment (rows)."""
    index = {word: i for i, word in enumerate(vocabulary)}
    result = np.zeros((len(segments), len(vocabulary)))
    for row, segment in enumerate(segments):
        for word, count in Counter(w for w in segment if w in index).items():
            result[row, index[word]] = count
        result[row] /= max(len(segment), 1)
    return result
