"""`moodfeed affect`: text lines in, one JSON object of valence and six emotions out per line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from model.labels import STORY_EMOTIONS
from service.affect_lines import LINE_MAX_CHARS
from service.cli import main
from service.news.affect import AffectScorer

STORIES = [
    "Residents terrified as wildfire threatens to engulf the town",
    "Rescued puppy finds a loving home\tThe happy family is delighted.",
]


def test_stdin_lines_come_back_as_json_lines_in_order_with_the_scorers_values(scorer: AffectScorer) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "service.cli", "affect"],
        input="\n".join(STORIES) + "\n",
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    answers = [json.loads(line) for line in done.stdout.splitlines()]
    assert [list(answer) for answer in answers] == [["valence", "emotions"]] * 2
    assert all(list(answer["emotions"]) == list(STORY_EMOTIONS) for answer in answers)
    fearful, glad = answers
    expected = scorer.score("Rescued puppy finds a loving home", "The happy family is delighted.")
    assert glad["valence"] == pytest.approx(expected.valence, abs=1e-4)
    assert fearful["emotions"]["fear"] > fearful["emotions"]["joy"]
    assert glad["valence"] > 0 > fearful["valence"]


def test_a_blank_line_keeps_its_place_with_an_error_and_the_exit_code_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stories = tmp_path / "stories.txt"
    stories.write_text(f"{STORIES[0]}\n\n{STORIES[1]}\n", encoding="utf-8")
    assert main(["affect", "--file", str(stories)]) == 1
    captured = capsys.readouterr()
    answers = [json.loads(line) for line in captured.out.splitlines()]
    assert [("error" in answer) for answer in answers] == [False, True, False]
    assert "line 2 is blank" in captured.err


def test_an_endless_line_is_cut_and_the_next_line_still_scored(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stories = tmp_path / "long.txt"
    stories.write_bytes(
        b"calm " * (3 * LINE_MAX_CHARS) + b"\n" + STORIES[0].encode() + b"\n\xff\xfe broken bytes\n"
    )
    assert main(["affect", "--file", str(stories)]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 3


def test_a_missing_file_is_named_with_exit_code_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["affect", "--file", str(tmp_path / "nope.txt")]) == 2
    assert "nope.txt" in capsys.readouterr().err


def test_a_reader_that_leaves_early_ends_a_file_run_quietly_with_141_not_a_read_error(tmp_path: Path) -> None:
    stories = tmp_path / "stories.txt"
    stories.write_text("".join(f"Story {number}\n" for number in range(5000)))
    command = [sys.executable, "-m", "service.cli", "affect", "--file", str(stories)]
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as run:
        assert run.stdout is not None and run.stderr is not None
        run.stdout.readline()
        run.stdout.close()  # as `| head -1` does
        errors = run.stderr.read()
    assert run.returncode == 141 and b"cannot read" not in errors


def test_a_bad_setting_stops_affect_as_it_stops_every_command(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("MOODFEED_PORT", "abc")
    assert main(["affect", "--file", "unread.txt"]) == 2
    assert "MOODFEED_PORT" in capsys.readouterr().err


def test_markup_in_a_line_is_scored_as_the_feed_would_clean_it(
    scorer: AffectScorer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stories = tmp_path / "stories.txt"
    stories.write_text(
        "Tom &amp; Jerry <b>celebrate</b> a happy win\tA <i>joyful</i> day.\n", encoding="utf-8"
    )

    assert main(["affect", "--file", str(stories)]) == 0

    answer = json.loads(capsys.readouterr().out)
    expected = scorer.score("Tom & Jerry celebrate a happy win", "A joyful day.")
    assert answer["valence"] == pytest.approx(expected.valence, abs=1e-4)
    assert answer["emotions"] == pytest.approx(expected.as_dict(), abs=1e-4)
