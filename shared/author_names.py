"""Names that give an author away: the author's own, their books' titles, famous characters.

One list per author profile, shared by the judge (a story that names its author's names fails
the `forbidden_names` check) and the style service (every listed name is blanked before
scoring, so sprinkling names into foreign prose buys no style). The packaged list
`shared/data/author_names.toml` covers the corpus's authors; `JUDGE_NAMES_FILE` and
`STYLE_NAMES_FILE` name another TOML file of the same shape.

>>> pattern = names_pattern(["Huck", "Huck Finn", "Pudd'nhead Wilson"])
>>> blank_names("Huck Finn met pudd’nhead wilson; Huckleberry did not.", pattern)
'          met                  ; Huckleberry did not.'
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

NAME_FIELDS = ("author", "titles", "characters")
# A typographic apostrophe in a text matches a plain one in the list, and the reverse.
_APOSTROPHES = "['\u2019]"


@dataclass(frozen=True)
class AuthorNames:
    """One author's names, book titles and famous characters."""

    profile: str
    author: tuple[str, ...]
    titles: tuple[str, ...]
    characters: tuple[str, ...]

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
        unknown = sorted(set(table) - set(NAME_FIELDS))
        if unknown:
            raise ValueError(
                f"{source}: [{profile}] has unknown key(s) {', '.join(unknown)}; "
                f"known: {', '.join(NAME_FIELDS)}"
            )
        lists = {}
        for field in NAME_FIELDS:
            names = table.get(field, [])
            if not isinstance(names, list) or not all(
                isinstance(n, str) and n.strip() for n in names
            ):
                raise ValueError(f"{source}: [{profile}] {field} must be a list of non-empty names")
            lists[field] = tuple(n.strip() for n in names)
        authors[profile] = AuthorNames(profile=profile, **lists)
    return authors


def names_of(author: str, path: Path | None = None) -> tuple[str, ...]:
    """One author's names from the file, or an error listing the authors it has."""
    authors = load_author_names(path)
    if author not in authors:
        raise ValueError(
            f"no names for author {author!r} in {path or packaged_names_file()}; "
            f"authors there: {', '.join(sorted(authors))}"
        )
    return authors[author].all


def names_pattern(names: Iterable[str]) -> re.Pattern[str]:
    """A case-insensitive, whole-word pattern matching any of `names`, longest first."""
    unique = sorted(set(names), key=lambda name: (-len(name), name))
    if not unique:
        return re.compile(r"(?!)")  # matches nothing
    alternatives = (re.escape(name).replace("'", _APOSTROPHES) for name in unique)
    return re.compile(rf"(?<!\w)(?:{'|'.join(alternatives)})(?!\w)", re.IGNORECASE)


def mentioned_names(text: str, names: Iterable[str]) -> list[str]:
    """The names of `names` that `text` mentions (whole words, any case)."""
    return [name for name in names if names_pattern([name]).search(text)]


def blank_names(text: str, pattern: re.Pattern[str]) -> str:
    """`text` with every match of `pattern` replaced by as many spaces: offsets stay valid."""
    return pattern.sub(lambda match: " " * len(match.group(0)), text)
