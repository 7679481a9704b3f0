"""The ONNX wrapper: the model contract, batching, cropping, and the shipped model on real faces."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from model.labels import EMOTIONS
from service.samples import ASTRONAUT_FACE
from service.vision.boxes import Box
from service.vision.classifier import EmotionClassifier, crop_faces
from service.vision.errors import ModelError
from tests.support import write_tiny_model
from tests.vision.frames import astronaut_grey, fer_faces


def card_of(model_path: Path) -> Path:
    return model_path.with_name("emotion.json")


@pytest.fixture(scope="module")
def tiny(tiny_model: Path) -> EmotionClassifier:
    return EmotionClassifier(tiny_model, card_of(tiny_model))


def test_reads_labels_and_input_size_from_the_card(tiny: EmotionClassifier) -> None:
    assert tiny.labels == EMOTIONS
    assert tiny.input_size == (48, 48)


def test_classifies_a_batch_in_one_run_with_one_distribution_per_face(tiny: EmotionClassifier) -> None:
    crops = np.stack([np.full((48, 48), level, np.uint8) for level in (250, 5, 128)])
    probabilities = tiny.classify(crops)
    assert probabilities.shape == (3, 7) and probabilities.dtype == np.float32
    assert np.allclose(probabilities.sum(axis=1), 1.0, atol=1e-5)
    assert [EMOTIONS[i] for i in probabilities.argmax(axis=1)[:2]] == ["happy", "sad"]


def test_no_faces_means_no_run_and_an_empty_answer(tiny: EmotionClassifier) -> None:
    assert tiny.classify(np.empty((0, 48, 48), np.uint8)).shape == (0, 7)


def test_crops_exactly_the_box_and_resizes_it_to_the_model_input() -> None:
    grey = np.zeros((100, 200), np.uint8)
    grey[20:60, 100:140] = 200  # the face: a bright 40x40 square
    crops = crop_faces(grey, [Box(100, 20, 40, 40), Box(0, 0, 96, 96)], (48, 48))
    assert crops.shape == (2, 48, 48)
    assert (crops[0] == 200).all()  # no margin: nothing from outside the box
    assert (crops[1] == 0).all()


def test_missing_model_or_card_is_a_model_error(tmp_path: Path, tiny_model: Path) -> None:
    with pytest.raises(ModelError, match="not found"):
        EmotionClassifier(tmp_path / "absent.onnx", card_of(tiny_model))
    with pytest.raises(ModelError, match="not found"):
        EmotionClassifier(tiny_model, tmp_path / "absent.json")


def test_a_model_whose_outputs_do_not_match_the_card_is_refused(tmp_path: Path) -> None:
    five_outputs = write_tiny_model(tmp_path, outputs=5)
    with pytest.raises(ModelError, match=r"expected \(1, 7\)"):
        EmotionClassifier(five_outputs, card_of(five_outputs))


def test_a_file_that_is_not_a_model_is_refused(tmp_path: Path, tiny_model: Path) -> None:
    bogus = tmp_path / "emotion.onnx"
    bogus.write_bytes(b"not a model")
    with pytest.raises(ModelError, match="ONNX Runtime cannot load it"):
        EmotionClassifier(bogus, card_of(tiny_model))


def test_a_card_without_labels_is_refused(tmp_path: Path, tiny_model: Path) -> None:
    card = tmp_path / "emotion.json"
    card.write_text('{"input_size": [48, 48]}')
    with pytest.raises(ModelError, match="unreadable"):
        EmotionClassifier(tiny_model, card)


def test_the_shipped_model_reads_the_astronauts_smile_as_happy(shipped_model: Path) -> None:
    classifier = EmotionClassifier(shipped_model, shipped_model.with_name("emotion.json"))
    (probabilities,) = classifier.classify(
        crop_faces(astronaut_grey(), [ASTRONAUT_FACE], classifier.input_size)
    )
    assert len(probabilities) == len(classifier.labels) == 7
    assert classifier.labels[int(probabilities.argmax())] == "happy"


def test_the_shipped_model_beats_guessing_on_fer2013_test_faces(shipped_model: Path) -> None:
    faces, labels = fer_faces(300, usage="PublicTest")
    classifier = EmotionClassifier(shipped_model, shipped_model.with_name("emotion.json"))
    accuracy = (classifier.classify(faces).argmax(axis=1) == labels).mean()
    assert accuracy > 0.35  # always answering the commonest class (happy) scores about 0.25


def test_a_model_path_onnx_runtime_cannot_take_is_refused_with_its_reason(
    tmp_path: Path, tiny_model: Path
) -> None:
    odd = tmp_path / os.fsdecode(b"emotion-\xe9.onnx")  # a name that is not UTF-8
    odd.write_bytes(tiny_model.read_bytes())
    with pytest.raises(ModelError, match="ONNX Runtime cannot load it"):
        EmotionClassifier(odd, card_of(tiny_model))
