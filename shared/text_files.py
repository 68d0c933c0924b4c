"""A text file a person named on the command line, read or refused in one sentence that says
what to do."""

from __future__ import annotations

import sys
from pathlib import Path


class UnreadableTextError(ValueError):
    """The named file cannot be scored as it is; the message says why and what to do."""


def read_user_text(name: str) -> str:
    """The UTF-8 text of file `name` (`-`: standard input), refusing a missing file, a folder,
    another encoding and an empty text.

    >>> read_user_text("/no/such.txt")
    Traceback (most recent call last):
    ...
    shared.text_files.UnreadableTextError: /no/such.txt: no such file
    """
    if name == "-":
        text, where = sys.stdin.read(), "standard input"
    else:
        path = Path(name)
        if path.is_dir():
            raise UnreadableTextError(f"{name} is a folder: give a text file")
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            raise UnreadableTextError(f"{name}: no such file") from None
        except OSError as exc:
            raise UnreadableTextError(f"{name} cannot be read: {exc.strerror}") from None
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise UnreadableTextError(
                f"{name} is not UTF-8 text (byte {raw[exc.start]:#04x} at offset {exc.start}): "
                f"convert it first, e.g. `iconv -f latin1 -t utf-8 {name} > {path.stem}.utf8.txt`"
            ) from None
        where = name
    if not text.strip():
        raise UnreadableTextError(f"{where} is empty: there is nothing to score")
    return text
