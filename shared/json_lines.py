"""Reading JSON-lines files, with errors that name the file and the line."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any


def json_lines(path: Path) -> Iterator[tuple[int, Any]]:
    """(line number, record) of every non-blank line of `path`; a line that is not JSON stops
    the reading with `PATH:N: not a JSON line (...)`.

    >>> import tempfile
    >>> path = Path(tempfile.mkdtemp()) / "x.jsonl"
    >>> _ = path.write_text('{"a": 1}\\n\\n[2]\\n{oops\\n')
    >>> reader = json_lines(path)
    >>> next(reader), next(reader)
    ((1, {'a': 1}), (3, [2]))
    >>> next(reader)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ValueError: ...x.jsonl:4: not a JSON line (Expecting property name ...)
    """
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path}:{number}: not a JSON line ({exc})") from None
        yield number, record
