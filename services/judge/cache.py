"""A bounded least-recently-used cache of judge results, so a repeated story is judged once."""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from typing import Generic, TypeVar

Value = TypeVar("Value")


def result_key(model: str, rubric: str, prompt: str, story: str) -> str:
    """The cache key: model, rubric version, prompt and story, hashed."""
    digest = hashlib.sha256()
    for part in (model, rubric, prompt, story):
        digest.update(part.encode())
        digest.update(b"\0")
    return digest.hexdigest()


class ResultCache(Generic[Value]):
    """At most `size` results; the least recently used goes first. Counts hits and misses."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.hits = 0
        self.misses = 0
        self._items: OrderedDict[str, Value] = OrderedDict()

    def get(self, key: str) -> Value | None:
        """The cached value, or None (a miss)."""
        if key in self._items:
            self._items.move_to_end(key)
            self.hits += 1
            return self._items[key]
        self.misses += 1
        return None

    def put(self, key: str, value: Value) -> None:
        """Keep `value`, evicting the oldest entries beyond `size`."""
        if self.size <= 0:
            return
        self._items[key] = value
        self._items.move_to_end(key)
        while len(self._items) > self.size:
            self._items.popitem(last=False)

    def __len__(self) -> int:
        return len(self._items)
