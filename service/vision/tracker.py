"""Follow faces across the frames of one stream and hold a steady mood.

Faces are matched to tracks by box overlap. Each track smooths its emotion probabilities with an
exponential moving average whose half-life is in seconds, so the smoothing means the same at 5 or 30
frames per second. A track survives a few frames and a moment without a detection (the cascade flickers, a
head turns), keeping its last box and answered as held; after that it ends. The mood is the tracks'
smoothed probabilities, largest face weighted most. While nobody is in view it fades towards no mood at
all with the same half-life, so the feed does not jump when a viewer glances away, nor freeze on someone
who has left.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from service.vision.boxes import Box
from service.vision.results import EmotionReading, Face, blend

MATCH_IOU = 0.3  # a detection overlapping a track's last box at least this much continues that track
MOOD_GONE_BELOW = 1 / 16  # a mood faded to this share of itself (four half-lives) is no mood


@dataclass
class Track:
    """One face followed through a stream."""

    track_id: int
    box: Box
    probabilities: np.ndarray  # smoothed
    updated_s: float  # when its probabilities last took in a classification
    raw: np.ndarray | None  # this frame's classification; None when the face was missed in this frame
    missed_frames: int = 0


class FaceTracker:
    """Tracks and mood for one stream; not thread-safe (a stream handles one frame at a time)."""

    def __init__(
        self, labels: Sequence[str], half_life_s: float, max_missed_frames: int, max_missed_s: float
    ):
        self.labels = tuple(labels)
        self.half_life_s = half_life_s
        # A track ends once its face has been missed in more than this many frames and for longer than
        # this (by the stream's clock): frames alone would mean a tenth of a second at 30 fps.
        self.max_missed_frames = max_missed_frames
        self.max_missed_s = max_missed_s
        self.tracks: list[Track] = []
        self._next_id = 1
        self._last_mood: EmotionReading | None = None  # the mood when a face was last in view...
        self._last_face_s = 0.0  # ...and when that was
        self._now_s = 0.0

    def update(self, boxes: Sequence[Box], probabilities: np.ndarray, now_s: float) -> None:
        """Take in this frame's detections and their (unsmoothed) probabilities, seen at `now_s`."""
        matches = self._match(boxes)
        for track in self.tracks:
            track.missed_frames += 1
            track.raw = None
        for track, index in matches:
            weight = self._weight(now_s - track.updated_s)
            track.probabilities = track.probabilities + weight * (probabilities[index] - track.probabilities)
            track.box, track.updated_s, track.missed_frames = boxes[index], now_s, 0
            track.raw = np.array(probabilities[index])
        unmatched = set(range(len(boxes))) - {index for _, index in matches}
        self.tracks = [track for track in self.tracks if not self._ended(track, track.missed_frames, now_s)]
        for index in sorted(unmatched):
            raw = np.array(probabilities[index])
            self.tracks.append(Track(self._next_id, boxes[index], raw, now_s, raw.copy()))
            self._next_id += 1
        self.tracks.sort(key=lambda track: -track.box.area)
        mood = blend(self.labels, self._stacked(), [track.box for track in self.tracks])
        if mood is not None:
            self._last_mood, self._last_face_s = mood, now_s
        self._now_s = now_s

    def end_all(self) -> None:
        """End every track at once (the frames changed size: a new camera or a new picture); the mood
        fades from the last one as when nobody is in view."""
        self.tracks = []

    def rescue_due_if_missed(self, track: Track, now_s: float) -> bool:
        """Whether missing this track's face in the frame seen at `now_s` too calls for a scan of the whole
        frame, in case the face is still there but changed more than the search near its box allows: when
        its frames of hold run out, and when the track would end."""
        missed_frames = track.missed_frames + 1
        return missed_frames == self.max_missed_frames + 1 or self._ended(track, missed_frames, now_s)

    def _ended(self, track: Track, missed_frames: int, now_s: float) -> bool:
        """Whether a track whose face was missed in `missed_frames` frames, up to `now_s`, is over (at once
        if the clock went back: a new video)."""
        missed_s = now_s - track.updated_s
        return missed_frames > self.max_missed_frames and not 0 <= missed_s <= self.max_missed_s

    def _weight(self, elapsed_s: float) -> float:
        """How much of the new reading an exponential moving average with our half-life takes in."""
        return 1.0 - 0.5 ** (max(0.0, elapsed_s) / self.half_life_s)

    def faces(self) -> list[Face]:
        """The faces being tracked, largest first, with their smoothed emotions."""
        return [
            Face(
                track.box,
                EmotionReading.of(self.labels, track.probabilities),
                track.track_id,
                None if track.raw is None else EmotionReading.of(self.labels, track.raw),
            )
            for track in self.tracks
        ]

    @property
    def mood(self) -> EmotionReading | None:
        """The stream's mood; fading while nobody is in view, gone once faded; None before any face."""
        if self._last_mood is None or self.tracks:
            return self._last_mood
        remaining = 1.0 - self._weight(self._now_s - self._last_face_s)  # 1 at first, halving per half-life
        if remaining < MOOD_GONE_BELOW:
            return None
        uniform = 1.0 / len(self.labels)
        return EmotionReading(
            {label: uniform + remaining * (p - uniform) for label, p in self._last_mood.scores.items()}
        )

    def _match(self, boxes: Sequence[Box]) -> list[tuple[Track, int]]:
        """Greedy one-to-one pairs of track and detection, best overlap first."""
        pairs = sorted(
            (
                (track.box.iou(box), position, index)
                for position, track in enumerate(self.tracks)
                for index, box in enumerate(boxes)
            ),
            reverse=True,
        )
        used_tracks: set[int] = set()
        used_boxes: set[int] = set()
        matches: list[tuple[Track, int]] = []
        for overlap, position, index in pairs:
            if overlap < MATCH_IOU:
                break
            if position in used_tracks or index in used_boxes:
                continue
            used_tracks.add(position)
            used_boxes.add(index)
            matches.append((self.tracks[position], index))
        return matches

    def _stacked(self) -> np.ndarray:
        if not self.tracks:
            return np.empty((0, len(self.labels)))
        return np.stack([track.probabilities for track in self.tracks])
