"""The vision engine: bytes in, faces with emotions and a mood out, for single photos and for video streams.

One engine per process holds the model session and the cascades; it is safe to call from many threads.
Each video stream gets its own `StreamSession` (its tracks and mood), which handles one frame at a time.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from service.config import Settings
from service.vision.boxes import Box
from service.vision.classifier import EmotionClassifier, crop_faces
from service.vision.faces import WINDOW_PX, FaceDetector
from service.vision.images import ImageLimits, decode_grey
from service.vision.results import Analysis, EmotionReading, Face, Timings, blend
from service.vision.stillness import StillFaces, StillScene
from service.vision.tracker import MATCH_IOU, FaceTracker, Track

# A full scan put off because nothing changed runs anyway after this many times its interval: a new face
# the scene comparison cannot tell from what was there (a head turning to the camera) waits at most that.
SCAN_PUT_OFF_AT_MOST = 4


@dataclass(frozen=True)
class PhotoOptions:
    """How single photos are taken in and scanned."""

    limits: ImageLimits
    min_face_px: int  # the smallest face looked for by default...
    min_face_fraction: float  # ...or this fraction of a large photo's shorter side, if larger


@dataclass(frozen=True)
class StreamOptions:
    """How video frames are taken in, scanned and tracked."""

    limits: ImageLimits
    min_face_fraction: float  # faces smaller than this fraction of the frame's shorter side are ignored
    # Between full scans (stream time), only the tracked faces' surroundings are searched.
    full_scan_every_s: float
    max_missed_frames: int
    max_missed_s: float
    half_life_s: float


def _ms_since(started: float) -> float:
    return (time.perf_counter() - started) * 1000.0


class VisionEngine:
    """Faces and emotions from image bytes; see `analyse_photo` and `open_stream`."""

    def __init__(
        self,
        classifier: EmotionClassifier,
        detector: FaceDetector,
        photo: PhotoOptions,
        stream: StreamOptions,
    ):
        self.classifier = classifier
        self.detector = detector
        self.photo = photo
        self.stream = stream

    @classmethod
    def from_settings(cls, settings: Settings) -> VisionEngine:
        """Load the model and the cascades as configured; raises `ModelError` if the model is unusable."""
        # Parallelism comes from serving several requests at once, not from splitting one image over cores.
        cv2.setNumThreads(settings.opencv_threads)
        classifier = EmotionClassifier(
            settings.model_path,
            settings.model_card_path,
            settings.onnx_intra_op_threads,
            settings.onnx_inter_op_threads,
        )
        photo = PhotoOptions(
            ImageLimits(settings.max_upload_bytes, settings.max_image_pixels),
            settings.predict_min_face_px,
            settings.predict_min_face_fraction,
        )
        stream = StreamOptions(
            ImageLimits(settings.stream_max_frame_bytes, settings.stream_max_frame_pixels),
            settings.stream_min_face_fraction,
            settings.stream_full_scan_every_s,
            settings.stream_max_missed_frames,
            settings.stream_max_missed_s,
            settings.mood_half_life_s,
        )
        return cls(classifier, FaceDetector(), photo, stream)

    @property
    def labels(self) -> tuple[str, ...]:
        return self.classifier.labels

    def classify(self, grey: np.ndarray, boxes: Sequence[Box]) -> np.ndarray:
        """Probabilities [len(boxes), len(labels)] for the boxed faces of `grey`, in one batched run."""
        return self.classifier.classify(crop_faces(grey, boxes, self.classifier.input_size))

    def analyse_photo(
        self,
        data: bytes,
        detect: bool = True,
        min_face_px: int | None = None,
        limits: ImageLimits | None = None,
    ) -> Analysis:
        """Every face in a photo (or the whole photo as one face if not `detect`) with its emotion.

        `min_face_px` trades thoroughness for speed (by default `photo_min_face_px`). `limits` replaces
        the upload limits (for a local file). Raises an `ImageError` for bytes it will not analyse.
        """
        started = time.perf_counter()
        grey = decode_grey(data, limits or self.photo.limits)
        height, width = grey.shape
        decode_ms, started = _ms_since(started), time.perf_counter()
        if detect:
            # The CLI and the API refuse a min_face under WINDOW_PX; a caller in Python may pass one.
            min_face_px = max(WINDOW_PX, min_face_px or self.photo_min_face_px(width, height))
            boxes = self.detector.find_faces(grey, min_face_px)
        else:
            min_face_px, boxes = None, [Box(0, 0, width, height)]
        detect_ms, started = _ms_since(started), time.perf_counter()
        probabilities = self.classify(grey, boxes)
        faces = [
            Face(box, EmotionReading.of(self.labels, p)) for box, p in zip(boxes, probabilities, strict=True)
        ]
        mood = blend(self.labels, probabilities, boxes)
        timings = Timings(decode_ms, detect_ms, _ms_since(started))
        return Analysis(faces, mood, width, height, timings, min_face_px)

    def photo_min_face_px(self, width: int, height: int) -> int:
        """The smallest face a width x height photo is scanned for by default: `photo.min_face_px`, or a
        fixed fraction of a large photo's shorter side, so that a 12-megapixel photo is not scanned for
        24-pixel faces."""
        fraction = round(self.photo.min_face_fraction * min(width, height))
        return max(WINDOW_PX, self.photo.min_face_px, fraction)

    def stream_min_face_px(self, width: int, height: int) -> int:
        """The smallest face a stream's width x height frames are scanned for: `stream.min_face_fraction`
        of the shorter side (a face smaller than that is too far from the camera to read)."""
        return max(WINDOW_PX, round(self.stream.min_face_fraction * min(width, height)))

    def open_stream(self, of_photos: bool = False) -> StreamSession:
        """A stream of video frames, or with `of_photos` a series of photos: each scanned for all its faces
        down to a photo's smallest, as `analyse_photo` scans one, where a stream's smallest face (a share
        of the frame) would miss a group's; and no face held over from one photo to the next."""
        return StreamSession(self, of_photos)


class StreamSession:
    """One video stream: detect cheaply near tracked faces, fully every few frames, classify, track. Or,
    `of_photos`, a series of photos: each scanned fully as a photo is, its faces tracked into the next."""

    def __init__(self, engine: VisionEngine, of_photos: bool = False):
        self.engine = engine
        self.options = engine.stream
        self.of_photos = of_photos
        held = (0, 0.0) if of_photos else (self.options.max_missed_frames, self.options.max_missed_s)
        self.tracker = FaceTracker(engine.labels, self.options.half_life_s, *held)
        self._last_full_scan_s: float | None = None  # so the first frame gets one
        self._frame_shape: tuple[int, ...] | None = None
        self._still_faces = StillFaces()
        self._still_scene = StillScene()

    def analyse_frame(self, data: bytes, now_s: float | None = None) -> Analysis:
        """This frame's tracked faces and the stream's mood; `now_s` (monotonic seconds) drives smoothing.

        Raises an `ImageError` for a frame it will not analyse; the stream carries on with the next.
        """
        started = time.perf_counter()
        grey = decode_grey(data, self.options.limits)
        return self.analyse_grey(grey, now_s, decode_ms=_ms_since(started))

    def analyse_grey(self, grey: np.ndarray, now_s: float | None = None, decode_ms: float = 0.0) -> Analysis:
        """`analyse_frame` for a frame already decoded to grey (a video file's frame, say)."""
        now_s = time.monotonic() if now_s is None else now_s
        height, width = grey.shape
        if grey.shape != self._frame_shape:  # boxes of frames of another size point nowhere in this one
            self.tracker.end_all()
            self._frame_shape = grey.shape
        started = time.perf_counter()
        if self.of_photos:
            min_face_px = self.engine.photo_min_face_px(width, height)
            boxes = self.engine.detector.find_faces(grey, min_face_px)
        else:
            min_face_px = self.engine.stream_min_face_px(width, height)
            boxes = self._detect(grey, min_face_px, now_s)
        detect_ms, started = _ms_since(started), time.perf_counter()
        self.tracker.update(boxes, self.engine.classify(grey, boxes), now_s)
        timings = Timings(decode_ms, detect_ms, _ms_since(started))
        return Analysis(self.tracker.faces(), self.tracker.mood, width, height, timings, min_face_px)

    def _detect(self, grey: np.ndarray, min_face_px: int, now_s: float) -> list[Box]:
        """This frame's faces: the tracked ones searched for near their last boxes, and, when a full scan
        is needed, new ones confirmed as thoroughly as a photo's before they start a track."""
        tracks = self.tracker.tracks
        self._still_faces.keep_only(track.track_id for track in tracks)
        near = [self._find_near(grey, track) for track in tracks]
        candidates = [box for box in near if box is not None]
        tracked = len(candidates)
        scan = self._scan_needed(grey, tracks, near, now_s)
        if scan:
            self._last_full_scan_s = now_s
            candidates += self.engine.detector.scan(grey, min_face_px)
        found: list[Box] = []  # tracked faces first, then new ones; two boxes on one face are one face
        for index, box in enumerate(candidates):
            if any(box.iou(other) >= MATCH_IOU for other in found):
                continue
            new_face = index >= tracked and all(box.iou(track.box) < MATCH_IOU for track in tracks)
            if new_face and not self.engine.detector.confirm_new(grey, box):
                continue
            found.append(box)
        if scan:
            self._still_scene.scanned(grey, [*found, *(track.box for track in tracks)])
        return found

    def _scan_needed(
        self, grey: np.ndarray, tracks: Sequence[Track], near: Sequence[Box | None], now_s: float
    ) -> bool:
        """Whether this frame gets a full scan, given where each track's face was found (`near`; None where
        it was not).

        By the stream's clock, not its frame count: a 30 fps video and a 10 fps webcam both meet a new face
        within the same time; a clock that went backwards (a new video) scans at once. A scan that is due
        waits while nothing outside the tracked faces has changed since the last one, up to a limit. A
        track whose face has not been found near its last box for a few frames gets a scan of the whole
        frame, and another before it ends, so that a face still there (grown or shrunk more than the
        search near it allows) keeps its track.
        """
        last = self._last_full_scan_s
        since_scan_s = math.inf if last is None or now_s < last else now_s - last
        every_s = self.options.full_scan_every_s
        if since_scan_s >= SCAN_PUT_OFF_AT_MOST * every_s:
            return True
        rescue = any(
            box is None and self.tracker.rescue_due_if_missed(track, now_s)
            for track, box in zip(tracks, near, strict=True)
        )
        if rescue:
            return True
        due = not tracks or since_scan_s >= every_s
        faces_now = [*(box for box in near if box is not None), *(track.box for track in tracks)]
        return due and not self._still_scene.unchanged(grey, faces_now)

    def _find_near(self, grey: np.ndarray, track: Track) -> Box | None:
        """The track's face in this frame, searched for near its last box unless it has kept still."""
        if self._still_faces.still(grey, track.track_id, track.box):
            return track.box
        box = self.engine.detector.find_near(grey, track.box)
        if box is not None:
            self._still_faces.found(grey, track.track_id, box)
        return box
