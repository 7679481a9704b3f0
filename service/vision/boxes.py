"""Face boxes: their geometry (overlap, IoU, scaling), and one box per face from many detections."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

MERGE_IOU = 0.3  # detections overlapping more than this are one face


@dataclass(frozen=True, slots=True)
class Box:
    """An axis-aligned face box in pixels: left, top, width and height."""

    x: int
    y: int
    w: int
    h: int

    @property
    def area(self) -> int:
        return self.w * self.h

    def overlap(self, other: Box) -> int:
        """The area the two boxes share."""
        overlap_w = min(self.x + self.w, other.x + other.w) - max(self.x, other.x)
        overlap_h = min(self.y + self.h, other.y + other.h) - max(self.y, other.y)
        return max(0, overlap_w) * max(0, overlap_h)

    def iou(self, other: Box) -> float:
        """Intersection over union: 1 for the same box, 0 for boxes that do not touch."""
        overlap = self.overlap(other)
        return overlap / (self.area + other.area - overlap) if overlap else 0.0

    def covers(self, other: Box) -> float:
        """The fraction of `other` inside this box."""
        return self.overlap(other) / other.area if other.area else 0.0

    def scaled(self, factor: float) -> Box:
        return Box(*(round(value * factor) for value in (self.x, self.y, self.w, self.h)))

    def shifted(self, dx: int, dy: int) -> Box:
        return Box(self.x + dx, self.y + dy, self.w, self.h)

    def grown(self, margin: float, width: int, height: int) -> Box:
        """This box with `margin` x its side added on every side, clipped to a width x height image."""
        pad_x, pad_y = round(self.w * margin), round(self.h * margin)
        left, top = max(0, self.x - pad_x), max(0, self.y - pad_y)
        right, bottom = min(width, self.x + self.w + pad_x), min(height, self.y + self.h + pad_y)
        return Box(left, top, max(0, right - left), max(0, bottom - top))


def merge_overlapping(boxes: Sequence[Box], strengths: Sequence[float]) -> list[Box]:
    """One box per face: the strongest of each group of overlapping detections, largest first.

    A box mostly inside a stronger one is dropped too: the cascade often fires on a face and on a
    tighter or looser box around the same face.
    """
    kept: list[Box] = []
    for index in sorted(range(len(boxes)), key=lambda i: -strengths[i]):
        box = boxes[index]
        if all(
            box.iou(other) <= MERGE_IOU and other.covers(box) < 0.6 and box.covers(other) < 0.6
            for other in kept
        ):
            kept.append(box)
    return sorted(kept, key=lambda box: -box.area)
