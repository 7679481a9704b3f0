"""The seven emotions, in the order of FER2013's labels and of every model's outputs.

The one place the list is written. Code that runs with a model reads the labels from its card
(`emotion.json`); code that needs them without one (training, the news feed's moods, tests) uses this,
and a test checks that the shipped card agrees.
"""

from __future__ import annotations

EMOTIONS = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
