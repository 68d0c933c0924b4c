"""Stage 1's authorship evaluator: held-out choice, passages, and a real run on the corpus."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from shared.book_folder import Book
from trainer.style_encoder.authorship_eval import (
    AuthorshipTest,
    book_passages,
    choose_held_out,
    evaluate_authorship,
    prose_passages,
)


def books_of(counts: dict[str, int]) -> list[Book]:
    return [
        Book(author, f"book-{i}", Path(f"{author}--book-{i}.txt"))
        for author, n in counts.items()
        for i in range(n)
    ]


def test_held_out_books_are_a_fraction_per_author_never_all_of_them() -> None:
    books = books_of({"twain": 10, "doyle": 5, "solo": 1, "pair": 2})
    chosen = choose_held_out(books, AuthorshipTest(held_out_fraction=0.2, seed=3))
    per_author = {a: sum(1 for b in chosen if b.author == a) for a in ("twain", "doyle", "pair")}
    assert per_author == {"twain": 2, "doyle": 1, "pair": 1}
    assert not any(b.author == "solo" for b in chosen)
    assert chosen == choose_held_out(books, AuthorshipTest(held_out_fraction=0.2, seed=3))


def test_named_held_out_titles_must_exist() -> None:
    books = books_of({"twain": 3})
    test = AuthorshipTest(held_out_titles=("book-1",))
    assert [b.title for b in choose_held_out(books, test)] == ["book-1"]
    with pytest.raises(ValueError, match="not among the books: nope"):
        choose_held_out(books, AuthorshipTest(held_out_titles=("nope",)))


def test_passages_stay_within_the_word_bounds(tmp_path: Path) -> None:
    paragraph = " ".join(["word"] * 59) + " end."
    book = tmp_path / "a--b.txt"
    book.write_text("\n\n".join([paragraph] * 40))
    test = AuthorshipTest(min_words=220, max_words=420, passages_per_book=3)
    passages = book_passages(Book("a", "b", book), test)
    assert len(passages) == 3
    assert all(220 <= len(p.split()) <= 420 for p in passages)
    prose = prose_passages([" ".join(["w"] * 150)] * 7 + [" ".join(["w"] * 500)], test)
    assert [len(p.split()) for p in prose] == [300, 300, 300]


def test_an_unknown_backend_is_refused_before_any_scoring(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"backends must be among auto, torch, openvino.*'onnx'"):
        evaluate_authorship(
            tmp_path / "no-books",
            None,
            tmp_path / "out",
            models=[None],
            test=AuthorshipTest(),
            backends=("torch", "onnx"),
        )
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
def test_the_evaluator_scores_held_out_books_with_the_services_scorer(
    corpus_books: Path,
    negative_texts: list[Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name, value in {
        "WINDOWS_PER_BOOK": "8",
        "WINDOWS_PER_NEGATIVE": "32",
        "CLASSIFIER_WINDOWS_PER_BOOK": "30",
        "CLASSIFIER_WINDOWS_PER_NEGATIVE": "120",
        "CLASSIFIER_FOLDS": "3",
    }.items():
        monkeypatch.setenv(f"STYLE_{name}", value)
    test = AuthorshipTest(
        held_out_titles=("a-horse-s-tale", "sign-of-four", "jill-the-reckless"),
        passages_per_book=6,
        prose_passages=12,
    )
    results = evaluate_authorship(
        corpus_books,
        negative_texts[0] if negative_texts else None,
        tmp_path / "authorship",
        models=[None],
        test=test,
        cache_dir=tmp_path / "cache",
        backends=("torch", "openvino"),
    )
    assert [(r.backend, r.classifier) for r in results] == [
        ("torch", False),
        ("torch", True),
        ("openvino", False),
        ("openvino", True),
    ]
    combined = results[1]
    # The OpenVINO export scores like PyTorch: same AUCs, scores moved by float noise only.
    for torch_row, openvino_row in zip(results[:2], results[2:], strict=True):
        assert torch_row.score_diff_max is None
        assert openvino_row.score_diff_max is not None and openvino_row.score_diff_max < 0.01
        assert abs(openvino_row.auc_vs_authors - torch_row.auc_vs_authors) <= 0.005
    assert combined.auc_vs_authors > 0.9
    assert set(combined.auc_per_author) == {"arthur-conan-doyle", "pg-wodehouse"}
    assert combined.mean_score["mark-twain"] > combined.mean_score["arthur-conan-doyle"]
    written = json.loads((tmp_path / "authorship" / "authorship.json").read_text())
    assert written["passages"]["mark-twain"] == 6
    if negative_texts:  # the stuffing attack: the LLM passages with Twain's telltale words
        assert written["passages"]["stuffed llm"] == written["passages"]["llm"]
        assert "Huck Finn" in written["stuffing_markers"]
        assert combined.auc_vs_stuffed is not None and combined.auc_vs_stuffed > 0.9
        assert combined.stuffing_rise_mean is not None and combined.stuffing_rise_mean < 0.1
    assert sorted(written["held_out_books"]) == [
        "arthur-conan-doyle--sign-of-four",
        "mark-twain--a-horse-s-tale",
        "pg-wodehouse--jill-the-reckless",
    ]
    assert (
        "| openvino | encoder + n-gram classifier |"
        in (tmp_path / "authorship" / "authorship.md").read_text()
    )
    assert not (tmp_path / "authorship" / "training-books").exists()
