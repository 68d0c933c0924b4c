"""Writing folders so that a crash never leaves a half-written one in place."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO


@contextmanager
def replaced_folder(target: Path) -> Iterator[Path]:
    """Yield a staging folder beside `target`; on success it replaces `target` in one rename.

    >>> import tempfile
    >>> root = Path(tempfile.mkdtemp())
    >>> with replaced_folder(root / "out") as staging:
    ...     _ = (staging / "a.txt").write_text("done")
    >>> sorted(p.name for p in root.iterdir()), (root / "out" / "a.txt").read_text()
    (['out'], 'done')
    """
    staging = target.with_name(target.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    yield staging
    shutil.rmtree(target, ignore_errors=True)
    staging.rename(target)


@contextmanager
def replaced_file(target: Path) -> Iterator[BinaryIO]:
    """Yield a temporary file beside `target`, flushed to disk and renamed over it on success;
    on an error it is removed, so readers only ever see a whole file.

    >>> import tempfile
    >>> root = Path(tempfile.mkdtemp())
    >>> with replaced_file(root / "a.bin") as handle:
    ...     _ = handle.write(b"whole")
    >>> sorted(p.name for p in root.iterdir()), (root / "a.bin").read_bytes()
    (['a.bin'], b'whole')
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=".tmp-", suffix=target.suffix)
    try:
        with os.fdopen(fd, "wb") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
