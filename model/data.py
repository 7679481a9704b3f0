"""FER2013 loaders: the Kaggle CSV (plain or gzip), the train/test image-folder layout and packed files."""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import lzma
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from model.labels import EMOTIONS

FACE_SIDE = 48
DEFAULT_DATA = Path("../shared/data/fer2013/fer2013.csv.gz")  # where the project keeps FER2013
DEFAULT_FERPLUS = DEFAULT_DATA.with_name("fer2013new.csv.gz")  # ...and the FER+ votes, row by row with it
FIRST_DATA_ROW = 2  # a FER2013 CSV's row number for its first face (row 1 is the header)
CSV_USAGES = {"Training": "train", "PublicTest": "test", "PrivateTest": "private"}
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp"}
PACKED_SUFFIX = ".xz"  # model.pack's files: every split's faces, labels and row numbers, xz-compressed
PACKED_PARTS = ("images", "labels", "rows")  # a FaceSet's fields, each stored as "<split>.<part>"
# FER+ vote columns, in the order they appear in fer2013new.csv, mapped to our label order.
FERPLUS_TO_EMOTION = {
    column: EMOTIONS.index(emotion)
    for column, emotion in (
        ("neutral", "neutral"),
        ("happiness", "happy"),
        ("surprise", "surprise"),
        ("sadness", "sad"),
        ("anger", "angry"),
        ("disgust", "disgust"),
        ("fear", "fear"),
    )
}


class MalformedDataError(ValueError):
    """A row or file that cannot be read as a labelled 48x48 face."""


@dataclass
class FaceSet:
    """Grey faces (uint8, N x 48 x 48) with their label indices and source row numbers."""

    images: np.ndarray
    labels: np.ndarray
    rows: np.ndarray

    def __len__(self) -> int:
        return len(self.labels)

    def subset(self, keep: np.ndarray) -> FaceSet:
        return FaceSet(self.images[keep], self.labels[keep], self.rows[keep])


@dataclass
class LoadReport:
    """What a loader skipped, so nothing is dropped silently."""

    skipped: list[str] = field(default_factory=list)

    def note(self, problem: str) -> None:
        self.skipped.append(problem)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _open_text(path: Path) -> io.TextIOBase:
    if path.suffix == ".gz":
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8", newline="")
    return path.open("r", encoding="utf-8", newline="")


@contextmanager
def _readable(path: Path) -> Iterator[None]:
    """Reading `path` as CSV text inside the block: a file that is not (binary, a broken gzip, a cut
    stream) becomes a `MalformedDataError` naming it."""
    try:
        yield
    except (UnicodeDecodeError, EOFError, gzip.BadGzipFile, zlib.error, csv.Error) as error:
        raise MalformedDataError(f"{path}: not a readable CSV ({error})") from None


def _csv_rows(path: Path, report: LoadReport) -> Iterator[tuple[int, str, int, np.ndarray]]:
    """Yield (row number, split, label, pixels) for each well-formed row; row 1 is the header."""
    with _readable(path), _open_text(path) as handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if header is None or [name.strip() for name in header[:3]] != ["emotion", "pixels", "Usage"]:
            raise MalformedDataError(f"{path}: expected the header 'emotion,pixels,Usage', got {header}")
        for row_number, row in enumerate(reader, start=FIRST_DATA_ROW):
            if len(row) != 3:
                report.note(f"row {row_number}: expected 3 fields, got {len(row)}")
                continue
            label_text, pixel_text, usage = row
            if not label_text.strip().isdigit() or int(label_text) >= len(EMOTIONS):
                report.note(f"row {row_number}: bad label {label_text!r}")
                continue
            if usage not in CSV_USAGES:
                report.note(f"row {row_number}: unknown Usage {usage!r}")
                continue
            try:
                pixels = np.array(pixel_text.split(), dtype=np.int32)
            except ValueError:
                report.note(f"row {row_number}: pixels are not integers")
                continue
            if pixels.size != FACE_SIDE * FACE_SIDE or pixels.min() < 0 or pixels.max() > 255:
                got = f"{pixels.size}" if pixels.size else "none"
                if pixels.size == FACE_SIDE * FACE_SIDE:
                    got = f"levels {pixels.min()} to {pixels.max()}"
                report.note(
                    f"row {row_number}: expected {FACE_SIDE * FACE_SIDE} grey levels 0-255, got {got}"
                )
                continue
            yield row_number, CSV_USAGES[usage], int(label_text), pixels.astype(np.uint8)


def load_csv(path: Path) -> tuple[dict[str, FaceSet], LoadReport]:
    """Read a Kaggle-layout FER2013 CSV into one FaceSet per split (train, test, private)."""
    report = LoadReport()
    images: dict[str, list[np.ndarray]] = {}
    labels: dict[str, list[int]] = {}
    rows: dict[str, list[int]] = {}
    for row_number, split, label, pixels in _csv_rows(path, report):
        images.setdefault(split, []).append(pixels.reshape(FACE_SIDE, FACE_SIDE))
        labels.setdefault(split, []).append(label)
        rows.setdefault(split, []).append(row_number)
    splits = {
        split: FaceSet(np.stack(images[split]), np.array(labels[split], np.int64), np.array(rows[split]))
        for split in images
    }
    return splits, report


def load_folder(root: Path) -> tuple[dict[str, FaceSet], LoadReport]:
    """Read `root/<split>/<emotion>/*.jpg` (splits train and test) into FaceSets, resizing to 48x48."""
    report = LoadReport()
    splits: dict[str, FaceSet] = {}
    for split_dir in sorted(path for path in root.iterdir() if path.is_dir()):
        images: list[np.ndarray] = []
        labels: list[int] = []
        rows: list[int] = []
        for class_dir in sorted(path for path in split_dir.iterdir() if path.is_dir()):
            if class_dir.name not in EMOTIONS:
                report.note(f"{class_dir}: unknown emotion folder")
                continue
            for image_path in sorted(class_dir.iterdir()):
                if image_path.suffix.lower() not in IMAGE_SUFFIXES:
                    continue
                face = cv2.imread(str(image_path), cv2.IMREAD_GRAYSCALE)
                if face is None:
                    report.note(f"{image_path}: not a readable image")
                    continue
                if face.shape != (FACE_SIDE, FACE_SIDE):
                    face = cv2.resize(face, (FACE_SIDE, FACE_SIDE), interpolation=cv2.INTER_AREA)
                images.append(face)
                labels.append(EMOTIONS.index(class_dir.name))
                rows.append(len(rows))
        if images:
            splits[split_dir.name] = FaceSet(np.stack(images), np.array(labels, np.int64), np.array(rows))
    if not splits:
        raise MalformedDataError(f"{root}: no <split>/<emotion>/ image folders found")
    return splits, report


def save_packed(splits: dict[str, FaceSet], path: Path) -> None:
    """Write the splits to one xz-compressed file: FER2013 in 56 MB where its gzip CSV takes 85 MB."""
    arrays = {
        f"{split}.{part}": getattr(faces, part) for split, faces in splits.items() for part in PACKED_PARTS
    }
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    # Neighbouring grey levels are alike: xz stores their differences (the delta filter) in less.
    filters = [{"id": lzma.FILTER_DELTA, "dist": 1}, {"id": lzma.FILTER_LZMA2, "preset": 6}]
    with lzma.open(path, "wb", filters=filters) as handle:
        handle.write(buffer.getvalue())


def load_packed(path: Path) -> tuple[dict[str, FaceSet], LoadReport]:
    """Read a file `save_packed` wrote; the row numbers stay those of the CSV it was packed from."""
    try:
        with lzma.open(path, "rb") as handle:
            arrays = np.load(io.BytesIO(handle.read()), allow_pickle=False)
            parts = {name: arrays[name] for name in arrays.files}
    except (lzma.LZMAError, ValueError, OSError) as error:
        raise MalformedDataError(f"{path}: not a packed FER2013 file ({error})") from None
    splits = {name.removesuffix(".images") for name in parts if name.endswith(".images")}
    try:
        faces = {split: FaceSet(*(parts[f"{split}.{part}"] for part in PACKED_PARTS)) for split in splits}
    except KeyError as missing:
        raise MalformedDataError(f"{path}: a packed split lacks {missing}") from None
    return faces, LoadReport()


def load_dataset(path: Path) -> tuple[dict[str, FaceSet], LoadReport]:
    """Load FER2013 from a CSV file, an image folder or a packed file, whichever `path` is."""
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file or folder")
    if path.is_dir():
        return load_folder(path)
    if path.suffix == PACKED_SUFFIX:
        return load_packed(path)
    return load_csv(path)


def load_ferplus_votes(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """FER+ votes as a per-row distribution over our seven labels, and a mask of rows that are faces.

    Row i of the votes file describes row i of fer2013.csv (its data rows, header excluded).
    A row is not a face when "NF" holds the majority of its votes; rows with no emotion votes
    get a zero distribution, which callers treat as "no FER+ opinion".
    """
    with _readable(path), _open_text(path) as handle:
        reader = csv.DictReader(handle)
        distributions, is_face = [], []
        for row in reader:
            votes = np.zeros(len(EMOTIONS), np.float32)
            for column, label in FERPLUS_TO_EMOTION.items():
                votes[label] = float(row[column] or 0)
            all_votes = sum(
                float(row[column] or 0)
                for column in reader.fieldnames or []
                if column not in ("Usage", "Image name")
            )
            is_face.append(float(row["NF"] or 0) * 2 <= all_votes)
            total = votes.sum()
            distributions.append(votes / total if total > 0 else votes)
    return np.stack(distributions), np.array(is_face)
