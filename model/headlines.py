"""The scored headlines the story affect lexicon learns from and is checked on (`../shared/data/headlines`).

SemEval-2007 "Affective Text" trial set: 250 headlines with six annotators' mean valence and six emotion
scores. GoodNewsEveryone: 5,000 headlines with a dominant emotion out of 15, which this module maps onto
SemEval's six. Targets are rows of `STORY_AFFECT_OUTPUTS`: valence in -1..1, then the emotions in 0..1.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from model.labels import STORY_AFFECT_OUTPUTS, STORY_EMOTIONS

DEFAULT_HEADLINES = Path("../shared/data/headlines")  # where the project keeps them

# GoodNewsEveryone's 15 emotions onto SemEval's six, and which of them read as positive.
GNE_TO_STORY = {
    "anger": "anger",
    "annoyance": "anger",
    "disgust": "disgust",
    "fear": "fear",
    "negative_anticipation_including_pessimism": "fear",
    "joy": "joy",
    "love_including_like": "joy",
    "pride": "joy",
    "trust": "joy",
    "positive_anticipation_including_optimism": "joy",
    "sadness": "sadness",
    "guilt": "sadness",
    "shame": "sadness",
    "negative_surprise": "surprise",
    "positive_surprise": "surprise",
}
GNE_POSITIVE = {
    "joy",
    "love_including_like",
    "pride",
    "trust",
    "positive_anticipation_including_optimism",
    "positive_surprise",
}


@dataclass(frozen=True, slots=True)
class Headlines:
    """Headlines with their targets: one row of `STORY_AFFECT_OUTPUTS` each (valence -1..1, emotions 0..1)."""

    texts: list[str]
    targets: np.ndarray


def load_trial(folder: Path) -> Headlines:
    """SemEval-2007's trial set: the XML headlines and the two gold files, scaled from 0..100 to 0..1."""
    instance = re.compile(r'<instance id="(\d+)">(.*)</instance>')
    xml_lines = (folder / "affectivetext_trial.xml").read_text(encoding="utf-8").splitlines()
    texts = {int(m[1]): m[2] for line in xml_lines if (m := instance.search(line))}
    gold: dict[int, list[float]] = {}
    for name in ("valence", "emotions"):
        for line in (folder / f"affectivetext_trial.{name}.gold").read_text(encoding="utf-8").splitlines():
            number, *scores = line.split()
            gold.setdefault(int(number), []).extend(float(score) / 100 for score in scores)
    ids = sorted(texts)
    return Headlines([texts[i] for i in ids], np.array([gold[i] for i in ids]))


def load_goodnews(folder: Path, *, other_weight: float, reader_weight: float) -> Headlines:
    """GoodNewsEveryone's headlines with targets built from their emotion annotations: the dominant emotion
    1, others it names `other_weight`, the readers' own `reader_weight`; valence the dominant one's sign."""
    texts, targets = [], []
    with (folder / "gne-release-v1.0.tsv").open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            if not row["headline"].strip():
                continue
            target = np.zeros(len(STORY_AFFECT_OUTPUTS))
            target[0] = 1.0 if row["dominant_emotion"] in GNE_POSITIVE else -1.0
            for column, weight in (("other_emotions", other_weight), ("reader_emotions", reader_weight)):
                for emotion in row[column].split(","):
                    if (story := GNE_TO_STORY.get(emotion.strip())) is not None:
                        index = 1 + STORY_EMOTIONS.index(story)
                        target[index] = max(target[index], weight)
            target[1 + STORY_EMOTIONS.index(GNE_TO_STORY[row["dominant_emotion"]])] = 1.0
            texts.append(row["headline"])
            targets.append(target)
    return Headlines(texts, np.array(targets))


def agreement(predicted: np.ndarray, gold: np.ndarray) -> dict[str, float]:
    """How predictions agree with gold scores: Pearson's r per output (after clipping to the outputs'
    ranges, as the scorer does), the six emotions' mean r, and the share of exactly neutral valence."""
    clipped = np.column_stack([np.clip(predicted[:, 0], -1, 1), np.clip(predicted[:, 1:], 0, 1)])
    result = {
        name: float(np.corrcoef(clipped[:, k], gold[:, k])[0, 1])
        for k, name in enumerate(STORY_AFFECT_OUTPUTS)
    }
    result["emotions_mean"] = float(np.mean([result[name] for name in STORY_EMOTIONS]))
    result["valence_exactly_zero"] = float(np.mean(clipped[:, 0] == 0))
    return {name: round(value, 3) for name, value in result.items()}
