"""One list of names per author, read by the judge's name check and the style service."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.judge.prechecks import CheckSettings, run_checks
from services.judge.settings import JudgeSettings
from services.style.settings import StyleSettings
from shared.author_names import (
    blank_names,
    load_author_names,
    mentioned_names,
    names_of,
    names_pattern,
)
from shared.settings import SettingsError, load_settings


def test_the_packaged_list_covers_the_corpus_authors_in_three_kinds() -> None:
    authors = load_author_names()
    assert {"mark-twain", "arthur-conan-doyle", "pg-wodehouse"} <= set(authors)
    twain = authors["mark-twain"]
    assert "Mark Twain" in twain.author and "Huckleberry Finn" in twain.titles
    assert "Injun Joe" in twain.characters
    assert len(twain.all) == len(set(twain.all))  # "Tom Sawyer" is a title and a name, once


def test_names_match_whole_words_in_any_case_and_either_apostrophe() -> None:
    names = ["Huck", "Pudd'nhead Wilson"]
    assert mentioned_names("HUCK ran to Pudd’nhead wilson.", names) == names
    assert mentioned_names("Huckleberry pie and puddnhead", names) == []


def test_a_name_split_or_reordered_is_still_mentioned() -> None:
    names = ["Tom Driscoll", "Widow Douglas"]
    telltale = ["Driscoll"]
    assert mentioned_names("Driscoll stayed home. Tom went out.", names, telltale) == names[:1]
    assert mentioned_names("Douglas, the Widow, wept.", names, telltale) == names[1:]
    assert mentioned_names("Tom met a widow. Douglas was her son.", names, telltale) == []
    assert mentioned_names("the driscoll farm", names, telltale) == []  # a name is capitalised
    sawyers = ["Tom Sawyer", "Sid Sawyer"]
    assert mentioned_names("Tom Sawyer ran.", sawyers, ["Sawyer"]) == ["Tom Sawyer"]
    assert mentioned_names("Sawyer ran.", sawyers, ["Sawyer"]) == sawyers


def test_telltale_words_must_be_words_of_the_names(tmp_path: Path) -> None:
    names = tmp_path / "names.toml"
    names.write_text("[a]\ncharacters = ['Tom Driscoll']\ntelltale_words = ['Driscoll']\n")
    assert load_author_names(names)["a"].telltale_words == ("Driscoll",)
    names.write_text("[a]\ncharacters = ['Tom Driscoll']\ntelltale_words = ['Sawyer']\n")
    with pytest.raises(ValueError, match=r"telltale_words Sawyer are words of none of its names"):
        load_author_names(names)


def test_blanking_keeps_every_offset() -> None:
    pattern = names_pattern(["Tom Sawyer", "Tom"])
    text = "Then Tom Sawyer said, and Tom's friend Tomás laughed."
    blanked = blank_names(text, pattern)
    assert len(blanked) == len(text)
    assert blanked.split() == ["Then", "said,", "and", "'s", "friend", "Tomás", "laughed."]
    assert blank_names(text, names_pattern([])) == text


def test_a_bad_names_file_is_refused_naming_the_problem(tmp_path: Path) -> None:
    broken = tmp_path / "names.toml"
    broken.write_text("[mark-twain]\nauthor = 'Mark Twain'\n")
    with pytest.raises(ValueError, match=r"\[mark-twain\] author must be a list"):
        load_author_names(broken)
    broken.write_text("[mark-twain]\nheroes = ['Huck']\n")
    with pytest.raises(ValueError, match=r"unknown key.*heroes"):
        load_author_names(broken)
    broken.write_text("[mark-twain\n")
    with pytest.raises(ValueError, match="not valid TOML"):
        load_author_names(broken)
    with pytest.raises(ValueError, match=r"authors there: .*mark-twain"):
        names_of("jane-austen")


def test_the_judge_forbids_the_names_the_style_service_blanks(tmp_path: Path) -> None:
    custom = tmp_path / "names.toml"
    custom.write_text("[jane-austen]\nauthor = ['Jane Austen']\ncharacters = ['Mr. Darcy']\n")
    judge = load_settings(JudgeSettings, author="jane-austen", names_file=custom)
    assert judge.forbidden_names == ("Jane Austen", "Mr. Darcy")
    checks = CheckSettings("THE END.", judge.forbidden_names, 0.3)
    story = "Mr. Darcy bowed and left the room.\nTHE END."
    assert run_checks(story, checks).failed["forbidden_names"] == "Mr. Darcy"
    style = StyleSettings(books_dir=tmp_path, names_file=custom)
    assert style.names_file == custom
    assert "Mr. Darcy" in load_author_names(style.names_file)["jane-austen"].all


def test_an_author_without_names_stops_the_judge_naming_the_variable() -> None:
    with pytest.raises(SettingsError, match=r"JUDGE_AUTHOR.*jane-austen.*authors there"):
        load_settings(JudgeSettings, author="jane-austen")
    assert "Mark Twain" in load_settings(JudgeSettings).forbidden_names


def test_a_missing_names_file_stops_the_style_service_naming_the_variable(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match=r"STYLE_NAMES_FILE: cannot read .*nope\.toml"):
        load_settings(StyleSettings, books_dir=tmp_path, names_file=tmp_path / "nope.toml")
