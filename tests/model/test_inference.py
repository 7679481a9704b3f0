"""Torch-side inference: one pass over faces and their mirrors gives what the exported model would."""

from __future__ import annotations

import numpy as np
import torch

from model.inference import predict, predict_with_mirrors
from model.net import EmotionNet


def test_one_pass_over_faces_and_mirrors_matches_each_face_and_the_flip_average() -> None:
    torch.manual_seed(0)
    net = EmotionNet((8, 8, 8, 8), dropout=0.2)
    faces = torch.rand(37, 1, 48, 48) * 255

    as_is, mirrored = predict_with_mirrors(net, faces, batch_size=16)

    np.testing.assert_allclose(as_is, predict(net, faces), atol=1e-5)
    np.testing.assert_allclose(mirrored, predict(net, torch.flip(faces, dims=[3])), atol=1e-5)


def test_under_bfloat16_autocast_the_probabilities_come_back_as_float32_and_close() -> None:
    torch.manual_seed(0)
    net = EmotionNet((8, 8, 8, 8), dropout=0.2)
    faces = torch.rand(8, 1, 48, 48) * 255

    as_is, _ = predict_with_mirrors(net, faces, autocast_dtype=torch.bfloat16)

    assert as_is.dtype == np.float32
    np.testing.assert_allclose(as_is.sum(axis=1), 1, atol=1e-3)
    np.testing.assert_allclose(as_is, predict(net, faces), atol=0.05)
