"""The reward-hacking monitor: alarms on crafted checks, measures on the corpus, the callback
driven by crafted recorder data, and a real GRPO run with the monitor on."""

from __future__ import annotations

import doctest
import json
import re
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from transformers import TrainerControl

from services.style.guards.copy import CopyIndex
from trainer.common.config_loading import ConfigError
from trainer.evaluation.stylometry import StylometryProfile
from trainer.grpo.completions_log import CompletionsRecorder
from trainer.grpo.config import MonitorSettings, RunConfig, load_config
from trainer.monitor import measures as hacking_measures
from trainer.monitor.callback import MONITOR_LOG, HackingMonitorCallback, build_monitor
from trainer.monitor.measures import IndependentMeasures, MonitorCheck, find_alarms

CHECK_KEYS = {
    "step", "completions", "mean_words", "stylometry_closeness", "stylometry_delta",
    "copied_fraction", "longest_copied_words", "distinct_1", "distinct_2", "rewards", "seconds",
    "alarms",
}  # fmt: skip


def check(step: int, style: float | None, closeness: float, copied: float = 0.01) -> MonitorCheck:
    """A check with only what the alarms read set to something that matters."""
    return MonitorCheck(
        step=step, completions=64, mean_words=1000.0, stylometry_closeness=closeness,
        stylometry_delta=0.5, copied_fraction=copied, longest_copied_words=9, distinct_1=0.4,
        distinct_2=0.9, rewards={"style": style, "completeness": 0.8}, seconds=0.1,
    )  # fmt: skip


def settings(**changes: Any) -> MonitorSettings:
    """Monitor settings with the defaults' thresholds and a window of three checks."""
    return MonitorSettings(**{"books_dir": Path("books"), "window_checks": 3, **changes})


def alarms(styles: list[float | None], closeness: list[float], **changes: Any) -> list[str]:
    """The alarms of the last of a run of checks ten steps apart."""
    copied = changes.pop("copied", [0.01] * len(styles))
    history = [
        check(10 * (i + 1), s, c, k)
        for i, (s, c, k) in enumerate(zip(styles, closeness, copied, strict=True))
    ]
    return find_alarms(history, settings(**changes), "mark-twain")


def test_doctests_pass() -> None:
    assert doctest.testmod(hacking_measures).failed == 0


def test_style_rising_while_closeness_falls_raises_an_alarm_that_says_what_moved() -> None:
    (alarm,) = alarms([0.40, 0.46, 0.52], [0.60, 0.56, 0.52])
    assert "style reward rose 0.120 (0.400 -> 0.520)" in alarm
    assert "stylometry closeness fell 0.080 (0.600 -> 0.520)" in alarm
    assert "steps 10-30" in alarm and "mark-twain" in alarm


def test_style_rising_with_steady_closeness_is_fine() -> None:
    assert alarms([0.40, 0.46, 0.52], [0.60, 0.59, 0.60]) == []
    assert alarms([0.40, 0.46, 0.52], [0.55, 0.60, 0.65]) == [], "closeness rising too"


def test_the_thresholds_are_respected() -> None:
    falling = [0.60, 0.56, 0.52]
    assert alarms([0.40, 0.42, 0.44], falling) == [], "style rose 0.04, not over 0.05"
    assert alarms([0.40, 0.42, 0.44], falling, style_rise=0.03) != []
    assert alarms([0.40, 0.46, 0.52], [0.60, 0.59, 0.58]) == [], "closeness fell 0.02 only"
    assert alarms([0.40, 0.46, 0.52], [0.60, 0.59, 0.58], stylometry_drop=0.01) != []


def test_the_trend_needs_a_full_window_and_every_value() -> None:
    assert alarms([0.40, 0.52], [0.60, 0.50]) == [], "two checks of a three-check window"
    assert alarms([0.40, 0.52], [0.60, 0.50], window_checks=2) != []
    assert alarms([0.40, None, 0.52], [0.60, 0.55, 0.50]) == [], "no style reward at one check"


def test_a_zig_zag_whose_ends_differ_is_no_trend() -> None:
    # Last minus first says style +0.06 and closeness -0.04; the fitted lines say +0.02, -0.01.
    zig_zag = alarms([0.40, 0.50, 0.40, 0.46], [0.60, 0.55, 0.60, 0.56], window_checks=4)
    assert zig_zag == []


def test_rising_copying_raises_an_alarm_and_so_does_the_cap() -> None:
    steady = [0.60] * 3
    (rising,) = alarms([0.5] * 3, steady, copied=[0.01, 0.05, 0.10])
    assert "copied fraction rose 0.090 (0.008 -> 0.098)" in rising
    assert alarms([0.5] * 3, steady, copied=[0.01, 0.03, 0.05]) == [], "rose 0.04 only"
    (capped,) = find_alarms([check(10, 0.5, 0.6, copied=0.4)], settings(), "mark-twain")
    assert "40.0% of the words repeat mark-twain's books" in capped and "25.0%" in capped
    unlimited = settings(max_copied_fraction=None)
    assert find_alarms([check(10, 0.5, 0.6, copied=0.4)], unlimited, "mark-twain") == []


def test_settings_are_off_until_books_dir_is_set_and_bad_ones_are_refused() -> None:
    assert RunConfig().monitor.active is False
    config = load_config(None, ["--monitor.books_dir", "/data/books"])
    assert config.monitor.active and config.monitor.books_dir == Path("/data/books")
    assert config.monitor.author_slug(config.author) == "mark-twain"
    assert load_config(None, ["--monitor.books_dir", "b", "--monitor.enabled", "false"]).monitor
    assert MonitorSettings(books_dir=Path("b"), enabled=False).active is False
    assert MonitorSettings(author="pg-wodehouse").author_slug("Mark Twain") == "pg-wodehouse"
    for overrides, message in (
        (["--monitor.enabled", "true"], "monitor: enabled is true but books_dir is not set"),
        (["--monitor.every_steps", "0"], "every_steps must be at least 1"),
        (["--monitor.window_checks", "1"], "window_checks must be at least 2"),
        (["--monitor.copy_rise", "-0.1"], "copy_rise must be a number >= 0"),
        (["--monitor.stylometry_drop", "x"], "stylometry_drop must be a number"),
        (["--monitor.every_step", "3"], "unknown key.*monitor.every_step"),
    ):
        with pytest.raises(ConfigError, match=message):
            load_config(None, overrides)


def test_a_missing_folder_or_author_fails_at_start_with_what_to_do(tmp_path: Path) -> None:
    recorder = CompletionsRecorder(tmp_path / "c.jsonl", ["style"])
    missing = load_config(None, ["--monitor.books_dir", str(tmp_path / "nope")])
    with pytest.raises(ConfigError, match=r"monitor: books folder .*nope does not exist"):
        build_monitor(missing, recorder, main_process=True)
    (tmp_path / "ann--one.txt").write_text("The cat. " * 10)
    (tmp_path / "bo--two.txt").write_text("A dog. " * 10)
    config = load_config(None, ["--monitor.books_dir", str(tmp_path), "--run_dir", str(tmp_path)])
    with pytest.raises(ConfigError, match=r"no books by 'mark-twain'.*authors there: ann, bo"):
        build_monitor(config, recorder, main_process=True)
    assert build_monitor(RunConfig(), recorder, main_process=True) is None, "off by default"
    assert recorder.listeners == []


# Two crafted authors with opposite habits in the same function words (as test_stylometry's).
ANN = "The captain and the mate sat upon the deck, and the river ran on and the night came. "
BO = "A captain of a boat, a mate of a raft; of course it was a night of rain for a river. "


def crafted_monitor(tmp_path: Path, **changes: Any) -> tuple[HackingMonitorCallback, Any]:
    """A main-process monitor of author `ann`, fed by a real recorder of one `style` reward."""
    profile = StylometryProfile.from_texts(
        {"ann": [ANN * 30], "bo": [BO * 30]}, "ann", top_words=10, segment_words=40
    )
    index = CopyIndex(8)
    index.add("ann", [ANN * 3])
    monitor_settings = settings(**{"every_steps": 1, "window_checks": 2, **changes})
    monitor = HackingMonitorCallback(
        monitor_settings, "ann", tmp_path / MONITOR_LOG, IndependentMeasures(profile, index)
    )
    recorder = CompletionsRecorder(tmp_path / "completions.jsonl", ["style"])
    recorder.listeners.append(monitor.observe)
    return monitor, recorder


def run_step(monitor: HackingMonitorCallback, recorder: Any, step: int, text: str, style: float):
    """One training step as the trainer drives the monitor: rewards, step end, log."""
    completions = [text] * 4
    state = SimpleNamespace(global_step=step - 1)
    recorder.record("style", ["p"] * 4, completions, [style] * 4, None, {"trainer_state": state})
    control = TrainerControl()
    state.global_step = step
    monitor.on_step_end(None, state, control)
    logs: dict[str, Any] = {"reward": style}
    if control.should_log:
        monitor.on_log(None, state, control, logs=logs)
    return control, logs


def test_stop_on_alarm_stops_training_and_saves_a_checkpoint(tmp_path: Path) -> None:
    monitor, recorder = crafted_monitor(tmp_path, stop_on_alarm=True, max_copied_fraction=None)
    control, logs = run_step(monitor, recorder, 1, "The boy and the dog ran on the hill. " * 5, 0.3)
    assert not control.should_training_stop
    assert logs["monitor/stylometry_closeness"] > 0.5 and logs["monitor/alarms"] == 0
    assert logs["monitor/rewards/style"] == pytest.approx(0.3)
    control, logs = run_step(monitor, recorder, 2, "A boy of a town, a dog of a farm. " * 5, 0.6)
    assert control.should_training_stop and control.should_save
    assert logs["monitor/stylometry_closeness"] < 0.5 and logs["monitor/alarms"] == 1
    lines = [json.loads(line) for line in (tmp_path / MONITOR_LOG).read_text().splitlines()]
    assert [line["step"] for line in lines] == [1, 2]
    assert set(lines[1]) == CHECK_KEYS and lines[1]["completions"] == 4
    assert "style reward rose 0.300" in lines[1]["alarms"][0]
    assert lines[0]["copied_fraction"] == 0.0 and lines[0]["distinct_2"] < 0.3


def test_without_stop_on_alarm_training_goes_on_and_quoting_is_flagged(tmp_path: Path) -> None:
    monitor, recorder = crafted_monitor(tmp_path, every_steps=2)
    control, logs = run_step(monitor, recorder, 1, ANN, 0.5)
    assert not control.should_log and "monitor/alarms" not in logs, "no check at step 1"
    control, logs = run_step(monitor, recorder, 2, ANN * 2, 0.5)
    assert logs["monitor/copied_fraction"] == 1.0 and logs["monitor/alarms"] == 1
    assert logs["monitor/completions"] == 8, "both steps' completions"
    assert not control.should_training_stop
    assert monitor.check(4) is None, "nothing recorded since"


def test_other_processes_only_listen_for_the_verdict(tmp_path: Path) -> None:
    monitor = HackingMonitorCallback(settings(every_steps=1), "ann", tmp_path / "m.jsonl", None)
    control = TrainerControl()
    monitor.on_step_end(None, SimpleNamespace(global_step=1), control)
    assert not control.should_training_stop and not (tmp_path / "m.jsonl").exists()


@pytest.fixture(scope="module")
def twain_measures(profile_books: Path) -> IndependentMeasures:
    """Mark Twain against the other corpus authors, without the held-out books."""
    return IndependentMeasures.from_books(profile_books, "mark-twain", 8)


def test_held_out_twain_is_closer_than_generic_llm_prose(
    twain_measures: IndependentMeasures, twain_passages: list[str], negative_texts: list[Path]
) -> None:
    if not negative_texts:
        pytest.skip("no generic prose: set STYLEGRPO_NEGATIVE_TEXTS")
    lines = negative_texts[0].read_text(encoding="utf-8").splitlines()
    paragraphs = [json.loads(line)["text"] for line in lines[:120]]
    generic = [" ".join(paragraphs[i : i + 8]) for i in range(0, 120, 8)]
    twain = [" ".join(p.split()[:600]) for p in twain_passages]
    twain_check = twain_measures.check(1, twain, {})
    generic_check = twain_measures.check(1, generic, {})
    assert twain_check.stylometry_closeness is not None
    assert generic_check.stylometry_closeness is not None
    assert twain_check.stylometry_closeness > generic_check.stylometry_closeness + 0.05
    assert twain_check.copied_fraction < 0.02, "held out: Twain's words, not his books'"


def test_a_verbatim_passage_is_all_copied_and_a_repeated_sentence_is_not_distinct(
    twain_measures: IndependentMeasures, profile_books: Path, twain_passages: list[str]
) -> None:
    book = (profile_books / "mark-twain--adventures-of-huckleberry-finn.txt").read_text()
    tokens = re.findall(r"\S+\s*", book)
    verbatim = "".join(tokens[20000:20300])
    quoted = twain_measures.check(1, [verbatim], {"style": [0.9]})
    assert quoted.copied_fraction > 0.95 and quoted.longest_copied_words > 280
    assert quoted.rewards == {"style": 0.9}
    repeated = twain_measures.check(1, ["The river was wide and brown that day. " * 40], {})
    varied = twain_measures.check(1, [twain_passages[0]], {})
    assert repeated.distinct_2 < 0.05 < 0.7 < varied.distinct_2
    assert repeated.mean_words == 320


@pytest.mark.slow
def test_a_grpo_run_logs_a_check_per_step_and_the_report_plots_them(
    tmp_path: Path,
    tiny_policy: Path,
    style_url: str,
    judge_url: str,
    completeness_service: tuple[str, Any],
    corpus_books: Path,
) -> None:
    from trainer.grpo.training import train

    run_dir = tmp_path / "run"

    def run(steps: int, resume: bool) -> None:
        overrides = {
            "model": str(tiny_policy), "run_dir": str(run_dir), "resume": str(resume).lower(),
            "rewards.0.url": style_url, "rewards.1.url": judge_url,
            "rewards.2.url": completeness_service[0],
            "grpo.max_steps": str(steps), "grpo.per_device_train_batch_size": "2",
            "grpo.num_generations": "2", "grpo.max_completion_length": "12",
            "grpo.save_steps": "1", "grpo.logging_steps": "1", "grpo.report_to": "none",
            "monitor.books_dir": str(corpus_books), "monitor.every_steps": "1",
            "monitor.window_checks": "2",
        }  # fmt: skip
        train(load_config(None, [part for k, v in overrides.items() for part in (f"--{k}", v)]))

    run(2, resume=False)
    log = run_dir / MONITOR_LOG
    checks = [json.loads(line) for line in log.read_text().splitlines()]
    assert [c["step"] for c in checks] == [1, 2]
    for c in checks:
        assert set(c) == CHECK_KEYS and c["completions"] == 2
        assert set(c["rewards"]) == {"style", "content", "completeness"}
    metrics = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    logged = [m for m in metrics if "monitor/copied_fraction" in m]
    assert [m["step"] for m in logged] == [1, 2] and all("reward" in m for m in logged)
    plot = run_dir / "report" / "reward-hacking monitor.png"
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "reward-hacking monitor.png" in (run_dir / "report" / "report.md").read_text()

    # A check logged after the last checkpoint by an interrupted run is dropped on resume.
    with log.open("a") as handle:
        handle.write(json.dumps({**checks[-1], "step": 3, "completions": 99}) + "\n")
    run(3, resume=True)
    resumed = [json.loads(line) for line in log.read_text().splitlines()]
    assert [c["step"] for c in resumed] == [1, 2, 3] and resumed[2]["completions"] == 2
