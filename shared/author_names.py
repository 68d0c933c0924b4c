"""Names that give an author away: the author's own, their books' titles, famous characters.

One list per author profile, shared by the judge (a story that names its author's names fails
the `forbidden_names` check) and the style service (every listed name is blanked before
scoring, so sprinkling names into foreign prose buys no style). The packaged list
`shared/data/author_names.toml` covers the corpus's authors; `JUDGE_NAMES_FILE` and
`STYLE_NAMES_FILE` name another TOML file of the same shape.

>>> pattern = names_pattern(["Huck", "Huck Finn", "Pudd'nhead Wilson"])
>>> blank_names("Huck Finn met pudd’nhead wilson; Huckleberry did not.", pattern)
'          met                  ; Huckleberry did not.'

The judge also finds a name whose words are split or reordered, as a word shuffle leaves it:
all its words (but small words and initials) capitalised in one sentence, or one of its
telltale words (a surname, a coined name) capitalised anywhere. A common word or given name
alone ("Tom", "Mississippi") never counts.

>>> names = ["Tom Driscoll", "Life on the Mississippi"]
>>> mentioned_names("Driscoll's dog barked. Tom laughed.", names, telltale_words=["Driscoll"])
['Tom Driscoll']
>>> mentioned_names("On the Mississippi Life was easy.", names)
['Life on the Mississippi']
>>> mentioned_names("Life was easy. We rafted down the Mississippi.", names)
[]
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

from shared.text import words

NAME_FIELDS = ("author", "titles", "characters")
TELLTALE_FIELD = "telltale_words"
# A typographic apostrophe in a text matches a plain one in the list, and the reverse.
_APOSTROPHES = "['\u2019]"
# The words a title leaves in lower case; they say nothing about whose name it is.
SMALL_WORDS = frozenset({"a", "an", "and", "at", "by", "for", "in", "of", "on", "the", "to"})
# A sentence as a word shuffle keeps it: `services.judge.fluency.scramble` cuts at these.
_SENTENCE_STOPS = re.compile(r"[.!?…]+")


@dataclass(frozen=True)
class AuthorNames:
    """One author's names, book titles and famous characters, and the words of those names
    that give the author away on their own (`telltale_words`)."""

    profile: str
    author: tuple[str, ...]
    titles: tuple[str, ...]
    characters: tuple[str, ...]
    telltale_words: tuple[str, ...] = ()

    @property
    def all(self) -> tuple[str, ...]:
        """Every name of the three kinds, each once, in the file's order."""
        return tuple(dict.fromkeys((*self.author, *self.titles, *self.characters)))


def packaged_names_file() -> Path:
    """The list shipped with the package."""
    return Path(str(files("shared") / "data" / "author_names.toml"))


def load_author_names(path: Path | None = None) -> dict[str, AuthorNames]:
    """Every author's names from a TOML file (the packaged list when `path` is None)."""
    source = path or packaged_names_file()
    try:
        data = tomllib.loads(source.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ValueError(f"cannot read the author names file {source}: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"{source} is not valid TOML: {exc}") from None
    authors = {}
    for profile, table in data.items():
        if not isinstance(table, dict):
            raise ValueError(f"{source}: [{profile}] must be a table of name lists")
        unknown = sorted(set(table) - {*NAME_FIELDS, TELLTALE_FIELD})
        if unknown:
            raise ValueError(
                f"{source}: [{profile}] has unknown key(s) {', '.join(unknown)}; "
                f"known: {', '.join((*NAME_FIELDS, TELLTALE_FIELD))}"
            )
        lists = {}
        for field in (*NAME_FIELDS, TELLTALE_FIELD):
            names = table.get(field, [])
            if not isinstance(names, list) or not all(
                isinstance(n, str) and n.strip() for n in names
            ):
                raise ValueError(f"{source}: [{profile}] {field} must be a list of non-empty names")
            lists[field] = tuple(n.strip() for n in names)
        authors[profile] = AuthorNames(profile=profile, **lists)
        name_words = {_folded(w) for name in authors[profile].all for w in words(name)}
        strays = [w for w in authors[profile].telltale_words if _folded(w) not in name_words]
        if strays:
            raise ValueError(
                f"{source}: [{profile}] {TELLTALE_FIELD} {', '.join(strays)} are words of none "
                "of its names; list only words of the names above"
            )
    return authors


def author_names(author: str, path: Path | None = None) -> AuthorNames:
    """One author's names from the file, or an error listing the authors it has."""
    authors = load_author_names(path)
    if author not in authors:
        raise ValueError(
            f"no names for author {author!r} in {path or packaged_names_file()}; "
            f"authors there: {', '.join(sorted(authors))}"
        )
    return authors[author]


def names_of(author: str, path: Path | None = None) -> tuple[str, ...]:
    """One author's names from the file, or an error listing the authors it has."""
    return author_names(author, path).all


def names_pattern(names: Iterable[str]) -> re.Pattern[str]:
    """A case-insensitive, whole-word pattern matching any of `names`, longest first."""
    unique = sorted(set(names), key=lambda name: (-len(name), name))
    if not unique:
        return re.compile(r"(?!)")  # matches nothing
    alternatives = (re.escape(name).replace("'", _APOSTROPHES) for name in unique)
    return re.compile(rf"(?<!\w)(?:{'|'.join(alternatives)})(?!\w)", re.IGNORECASE)


def mentioned_names(
    text: str, names: Iterable[str], telltale_words: Iterable[str] = ()
) -> list[str]:
    """The names of `names` that `text` mentions: the whole name (whole words, any case), or
    its words split or reordered (see the module's docstring)."""
    names = list(names)
    flat = " ".join(text.split())  # a name wrapped across lines is still one name
    whole = [name for name in names if names_pattern([name]).search(flat)]
    # A name found whole lends its words to no other: "Tom Sawyer" is not "Sid Sawyer".
    rest = blank_names(flat, names_pattern(whole))
    sentences = _SENTENCE_STOPS.split(rest)
    telltale = {_folded(w) for w in telltale_words}
    mentioned = []
    for name in names:
        parts = [w for w in words(name) if len(w) > 1 and w.lower() not in SMALL_WORDS]
        present = [w for w in parts if _capitalised(w, rest)]
        if (
            name in whole
            or any(_folded(w) in telltale for w in present)
            or (
                len(parts) > 1
                and len(present) == len(parts)
                and any(all(_capitalised(w, sentence) for w in parts) for sentence in sentences)
            )
        ):
            mentioned.append(name)
    return mentioned


def _folded(word: str) -> str:
    return word.replace("\u2019", "'").casefold()


def _capitalised(word: str, text: str) -> bool:
    """Whether `word` is a whole word of `text` with a capital first letter (any case else)."""
    pattern = re.escape(word).replace("'", _APOSTROPHES)
    return any(
        match.group(0)[0].isupper()
        for match in re.finditer(rf"(?<!\w){pattern}(?!\w)", text, re.IGNORECASE)
    )


def blank_names(text: str, pattern: re.Pattern[str]) -> str:
    """`text` with every match of `pattern` replaced by as many spaces: offsets stay valid."""
    return pattern.sub(lambda match: " " * len(match.group(0)), text)
