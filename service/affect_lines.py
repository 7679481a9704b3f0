"""`moodfeed affect`: score text the way the news feed scores stories, one JSON object a line.

Each input line is one story: a title, or a title and a summary separated by a tab. Each output line is
`{"valence": v, "emotions": {"anger": a, "disgust": d, "fear": f, "joy": j, "sadness": s,
"surprise": u}}`, valence in -1..1 and each emotion in 0..1, in the order of the input. Titles and
summaries are cleaned as the feed cleans stories (markup stripped, entities decoded, cut at a word to the
feed's limits). A blank line gets `{"error": ...}` in its
place and a note on stderr, and the exit code is then 1.
"""

from __future__ import annotations

import argparse
import io
import json
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TextIO

from service.api.feed_schemas import rounded_affect
from service.console import say
from service.news.affect import AffectScorer, LexiconError
from service.news.parse import SUMMARY_MAX_CHARS, TITLE_MAX_CHARS
from service.news.sanitise import plain_text

LINE_MAX_CHARS = 1 << 16  # read no more of one line than this; the rest of it is skipped unread


def bounded_lines(source: TextIO) -> Iterator[str]:
    """The source's lines, each cut at `LINE_MAX_CHARS`, so one endless line cannot fill the memory."""
    while line := source.readline(LINE_MAX_CHARS):
        if not line.endswith("\n"):
            while (rest := source.readline(LINE_MAX_CHARS)) and not rest.endswith("\n"):
                pass
        yield line


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--file",
        type=Path,
        metavar="FILE",
        help="read the stories from FILE (UTF-8) instead of standard input",
    )


def score_lines(lines: Iterable[str], scorer: AffectScorer, out: TextIO, errors: TextIO) -> int:
    """Write one JSON object per line; the number of lines that could not be scored."""
    failed = 0
    for number, line in enumerate(lines, start=1):
        title, _, summary = line.rstrip("\r\n").partition("\t")
        title, summary = plain_text(title, TITLE_MAX_CHARS), plain_text(summary, SUMMARY_MAX_CHARS)
        if not title and not summary:
            failed += 1
            say(f"line {number} is blank", "moodfeed affect", errors)
            record: dict[str, object] = {"error": "blank line"}
        else:
            record = rounded_affect(scorer.score(title or summary, summary if title else ""))
        out.write(json.dumps(record) + "\n")
        out.flush()  # a pipe partner sees each answer as soon as its line is scored
    return failed


def run(arguments: argparse.Namespace) -> int:
    try:
        scorer = AffectScorer()
    except LexiconError as error:
        say(str(error), "moodfeed affect")
        return 2
    if arguments.file is None:
        source: TextIO = io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8", errors="replace")
        return int(score_lines(bounded_lines(source), scorer, sys.stdout, sys.stderr) > 0)
    try:
        source = arguments.file.open(encoding="utf-8", errors="replace")
    except OSError as error:  # only the opening: a write error (a reader gone) is not the file's fault
        say(f"cannot read {arguments.file}: {error.strerror or error}", "moodfeed affect")
        return 2
    with source:
        return int(score_lines(bounded_lines(source), scorer, sys.stdout, sys.stderr) > 0)
