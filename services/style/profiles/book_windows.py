"""Windows sampled from an author's books, the material of the author profiles."""

from __future__ import annotations

from dataclasses import dataclass

from services.style.encoding.windows import Tokenizer, split_windows
from shared.book_folder import Book


@dataclass(frozen=True)
class SampledWindow:
    """A window of a book's text, kept with the author and title it came from."""

    author: str
    title: str
    text: str


def sample_book_windows(
    book: Book, tokenizer: Tokenizer, *, count: int, window_tokens: int
) -> list[SampledWindow]:
    """`count` windows spread evenly through the book, skipping its first and last 5%."""
    text = book.read_text()
    windows = split_windows(text, tokenizer, window_tokens=window_tokens, overlap_tokens=0).windows
    usable = [w for w in windows if w.tokens >= window_tokens // 2]
    margin = len(usable) // 20
    body = usable[margin : len(usable) - margin] or usable
    if len(body) > count:
        step = len(body) / count
        body = [body[int(i * step + step / 2)] for i in range(count)]
    return [SampledWindow(book.author, book.title, text[w.start : w.end]) for w in body]


def split_into_parts(windows: list[SampledWindow], parts: int) -> list[SampledWindow]:
    """The same windows, titled `TITLE#k` by which of `parts` consecutive parts they fall in."""
    return [
        SampledWindow(w.author, f"{w.title}#{i * parts // len(windows)}", w.text)
        for i, w in enumerate(windows)
    ]
