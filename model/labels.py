"""The emotion labels: the seven of faces (FER2013 order, every face model's outputs) and the six of stories.

The one place the list is written. Code that runs with a model reads the labels from its card
(`emotion.json`); code that needs them without one (training, the news feed's moods, tests) uses this,
and a test checks that the shipped card agrees.
"""

from __future__ import annotations

EMOTIONS = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")

# The six emotions a news story is scored on (SemEval-2007 "Affective Text"), in the order of the story
# affect lexicon's outputs after valence. A story has no "neutral": it is neutral when all six are low.
STORY_EMOTIONS = ("anger", "disgust", "fear", "joy", "sadness", "surprise")
# What the story affect lexicon gives for a text, in its order: valence (-1 sad to 1 glad), then the six.
STORY_AFFECT_OUTPUTS = ("valence", *STORY_EMOTIONS)
