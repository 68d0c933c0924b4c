"""The judge's result cache: bounded, least recently used first, keyed by everything judged."""

from __future__ import annotations

from services.judge.cache import ResultCache, result_key


def test_keys_change_with_every_part() -> None:
    base = result_key("m", "rubric@1", "prompt", "story")
    assert base == result_key("m", "rubric@1", "prompt", "story")
    others = [
        result_key("m2", "rubric@1", "prompt", "story"),
        result_key("m", "rubric@2", "prompt", "story"),
        result_key("m", "rubric@1", "prompt!", "story"),
        result_key("m", "rubric@1", "prompt", "story!"),
        result_key("m", "rubric@1", "promptstory", ""),
    ]
    assert base not in others and len(set(others)) == len(others)


def test_least_recently_used_goes_first_and_hits_are_counted() -> None:
    cache: ResultCache[int] = ResultCache(2)
    cache.put("a", 1)
    cache.put("b", 2)
    assert cache.get("a") == 1
    cache.put("c", 3)
    assert cache.get("b") is None and cache.get("a") == 1 and cache.get("c") == 3
    assert (cache.hits, cache.misses, len(cache)) == (3, 1, 2)


def test_size_zero_keeps_nothing() -> None:
    cache: ResultCache[int] = ResultCache(0)
    cache.put("a", 1)
    assert cache.get("a") is None and len(cache) == 0
