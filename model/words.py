"""The words of a text as the story affect lexicon counts them: the one tokeniser for training the lexicon
(`model.story_affect`) and for scoring stories with it (`service.news.affect`)."""

from __future__ import annotations

import re

_WORD = re.compile(r"[a-z]+")


def words_of(text: str) -> list[str]:
    """The lower-case words of a text (letters only; digits and marks split words)."""
    return _WORD.findall(text.lower())
