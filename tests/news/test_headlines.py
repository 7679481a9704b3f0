"""The scored headlines the story affect lexicon learns from, read from files in the two corpora's formats
(made-up headlines, none of the corpora's rows), and the agreement measure the bench and the card print."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from model.headlines import agreement, load_goodnews, load_trial
from model.labels import STORY_AFFECT_OUTPUTS
from service.news import bench

TRIAL = {  # id: (headline, valence -100..100, anger disgust fear joy sadness surprise 0..100)
    7: ("Village fair raises record sum for the new library", 60, (0, 0, 0, 70, 0, 20)),
    3: ("Storm floods hundreds of homes on the coast", -80, (10, 0, 60, 0, 70, 10)),
    12: ("Council delays the vote on parking fees again", -20, (40, 5, 0, 0, 10, 0)),
}
GNE_COLUMNS = [
    "id",
    "headline",
    "url",
    "bias_horizontal",
    "bias_vertical",
    "country",
    "source",
    "dominant_emotion",
    "intensity",
    "cause",
    "experiencer",
    "target",
    "cue",
    "other_emotions",
    "reader_emotions",
]


def write_trial(folder: Path) -> Path:
    folder.mkdir(exist_ok=True)
    lines = [f'<instance id="{number}">{text}</instance>' for number, (text, _, _) in TRIAL.items()]
    (folder / "affectivetext_trial.xml").write_text('<corpus task="affective text">\n' + "\n".join(lines))
    (folder / "affectivetext_trial.valence.gold").write_text(
        "".join(f"{number} {valence}\n" for number, (_, valence, _) in TRIAL.items())
    )
    (folder / "affectivetext_trial.emotions.gold").write_text(
        "".join(f"{number} {' '.join(map(str, scores))}\n" for number, (_, _, scores) in TRIAL.items())
    )
    return folder


def test_the_trial_set_is_read_in_id_order_with_its_scores_scaled_to_the_outputs_ranges(
    tmp_path: Path,
) -> None:
    trial = load_trial(write_trial(tmp_path))

    assert trial.texts == [TRIAL[number][0] for number in (3, 7, 12)]
    assert trial.targets.shape == (3, len(STORY_AFFECT_OUTPUTS))
    assert trial.targets[1] == pytest.approx([0.6, 0, 0, 0, 0.7, 0, 0.2])


def test_goodnews_targets_give_the_dominant_emotion_its_full_weight_and_the_others_theirs(
    tmp_path: Path,
) -> None:
    rows = [
        dict(headline="Teenager rescues a dog from the frozen lake", dominant_emotion="pride",
             other_emotions="positive_surprise", reader_emotions="fear"),
        dict(headline="Prices climb again as the strike goes on", dominant_emotion="annoyance",
             other_emotions="negative_anticipation_including_pessimism, sadness", reader_emotions=""),
        dict(headline="   ", dominant_emotion="joy", other_emotions="", reader_emotions=""),
    ]  # fmt: skip
    table = ["\t".join(GNE_COLUMNS)] + [
        "\t".join(row.get(column, "x") for column in GNE_COLUMNS) for row in rows
    ]
    (tmp_path / "gne-release-v1.0.tsv").write_text("\n".join(table) + "\n", encoding="utf-8")

    headlines = load_goodnews(tmp_path, other_weight=0.5, reader_weight=0.25)

    assert headlines.texts == [rows[0]["headline"], rows[1]["headline"]]  # the blank one is left out
    order = list(STORY_AFFECT_OUTPUTS)
    rescue, prices = (dict(zip(order, target, strict=True)) for target in headlines.targets)
    assert rescue == {"valence": 1, "anger": 0, "disgust": 0, "fear": 0.25, "joy": 1, "sadness": 0,
                      "surprise": 0.5}  # fmt: skip
    assert prices == {"valence": -1, "anger": 1, "disgust": 0, "fear": 0.5, "joy": 0, "sadness": 0.5,
                      "surprise": 0}  # fmt: skip


def test_agreement_is_pearsons_r_per_output_after_clipping_to_the_outputs_ranges() -> None:
    rng = np.random.default_rng(0)
    gold = np.column_stack([rng.uniform(-1, 1, 50), rng.uniform(0, 1, (50, 6))])
    predicted = gold * 2 + 0.1  # the same order everywhere, but out of range: clipping bends it
    predicted[:5, 0] = 0.0

    same = agreement(gold, gold)
    bent = agreement(predicted, gold)

    assert all(same[name] == 1.0 for name in STORY_AFFECT_OUTPUTS) and same["emotions_mean"] == 1.0
    assert all(0.3 < bent[name] < 1.0 for name in STORY_AFFECT_OUTPUTS)
    assert bent["valence_exactly_zero"] == 0.1


def test_the_feed_bench_prints_speed_and_agreement_with_a_trial_set(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bench.main(["--stories", "200", "--repeats", "3", "--headlines", str(write_trial(tmp_path / "trial"))])

    shown = capsys.readouterr().out
    assert "200 stories: affect scoring" in shown and "rank 20 for sad, uplift" in shown
    assert "SemEval-2007 trial set, 3 headlines" in shown and "VADER valence r" in shown


def test_the_feed_bench_says_so_when_there_is_no_trial_set(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bench.main(["--stories", "50", "--repeats", "2", "--headlines", str(tmp_path)])

    assert (
        f"agreement with people: skipped, no SemEval-2007 trial set in {tmp_path}" in capsys.readouterr().out
    )
