"""One analysed frame of a video, or photo of a series: the row type of every timeline, file and answer."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from service.vision.results import Analysis, EmotionReading, Face, Timings


@dataclass(frozen=True, slots=True)
class AnalysedFrame:
    """One analysed frame (or photo): where it is in its source, its tracked faces and the mood so far."""

    source: str
    frame: int  # the frame's index in the video (or the photo's in the series)
    time_s: float  # the video's own timestamp of the frame, or the photo's place in its series
    faces: list[Face]
    mood: EmotionReading | None
    width: int
    height: int
    timings: Timings  # what analysing it cost, by stage (a video frame's decoding by FFmpeg is not in it)
    image_bgr: np.ndarray | None = None  # the frame itself, when asked for (to draw on); never kept after

    @classmethod
    def of(
        cls, source: str, frame: int, time_s: float, analysis: Analysis, image_bgr: np.ndarray | None
    ) -> AnalysedFrame:
        """The frame's place in its source with what the stream made of it."""
        faces, mood, timings = analysis.faces, analysis.mood, analysis.timings
        return cls(source, frame, time_s, faces, mood, analysis.width, analysis.height, timings, image_bgr)
