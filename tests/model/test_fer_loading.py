"""The FER2013 loaders: Kaggle CSV (plain or gzip), image folders and packed files; bad input reported, never
mangled."""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import numpy as np
import pytest

from model import pack
from model.data import MalformedDataError, load_dataset, load_ferplus_votes
from tests.model.support import MakeFaceRows, MakeFaces, WriteFerCsv, write_face_folder, write_ferplus_votes


def test_csv_rows_land_in_their_usage_split_with_their_row_numbers(
    fer_csv: WriteFerCsv, face_rows: MakeFaceRows
) -> None:
    rows = face_rows(5, 3)
    splits, report = load_dataset(fer_csv(rows))

    assert sorted(splits) == ["test", "train"]
    assert splits["train"].images.shape == (5, 48, 48) and splits["train"].images.dtype == np.uint8
    assert splits["train"].rows.tolist() == [2, 3, 4, 5, 6]  # row 1 is the header
    assert splits["test"].rows.tolist() == [7, 8, 9]
    assert splits["test"].labels.tolist() == [int(label) for label, _, _ in rows[5:]]
    first_pixels = np.array(rows[0][1].split(), np.uint8).reshape(48, 48)
    assert np.array_equal(splits["train"].images[0], first_pixels)
    assert report.skipped == []


def test_gzip_csv_reads_the_same_as_plain(
    fer_csv: WriteFerCsv, face_rows: MakeFaceRows, tmp_path: Path
) -> None:
    plain = fer_csv(face_rows(4, 2))
    packed = tmp_path / "faces.csv.gz"
    with plain.open("rb") as source, gzip.open(packed, "wb") as target:
        shutil.copyfileobj(source, target)

    plain_splits, _ = load_dataset(plain)
    packed_splits, _ = load_dataset(packed)

    for split in ("train", "test"):
        assert np.array_equal(plain_splits[split].images, packed_splits[split].images)
        assert np.array_equal(plain_splits[split].labels, packed_splits[split].labels)


def test_a_packed_file_reads_as_the_csv_it_was_packed_from(
    fer_csv: WriteFerCsv, face_rows: MakeFaceRows, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = fer_csv(face_rows(6, 3, seed=4))
    packed = tmp_path / "carry" / "fer2013.xz"
    pack.main([str(source), str(packed)])

    assert "test 3, train 6 faces" in capsys.readouterr().out
    from_csv, _ = load_dataset(source)
    from_pack, report = load_dataset(packed)
    assert sorted(from_pack) == sorted(from_csv) and report.skipped == []
    for split, faces in from_csv.items():
        for part in ("images", "labels", "rows"):  # the rows, so FER+ votes still line up
            expected, got = getattr(faces, part), getattr(from_pack[split], part)
            assert got.dtype == expected.dtype and np.array_equal(got, expected), (split, part)


def test_a_file_named_like_a_pack_that_is_none_is_malformed(tmp_path: Path) -> None:
    fake = tmp_path / "fer2013.xz"
    fake.write_bytes(b"emotion,pixels,Usage\n")
    with pytest.raises(MalformedDataError, match="not a packed FER2013 file"):
        load_dataset(fake)


def test_packing_refuses_a_name_loaders_would_not_know_and_a_missing_source(
    fer_csv: WriteFerCsv, face_rows: MakeFaceRows, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as refused:
        pack.main([str(fer_csv(face_rows(2, 1))), str(tmp_path / "fer2013.npz")])
    assert refused.value.code == 2 and "must end in .xz" in capsys.readouterr().err
    with pytest.raises(SystemExit) as missing:
        pack.main([str(tmp_path / "absent.csv"), str(tmp_path / "fer2013.xz")])
    assert missing.value.code == 2 and "no such file" in capsys.readouterr().err


MALFORMED = [
    ("9", "face", "Training", "row 3: bad label '9'"),
    ("x", "face", "Training", "row 3: bad label 'x'"),
    ("3", "face", "Validation", "row 3: unknown Usage 'Validation'"),
    ("3", "1 2 3", "Training", "row 3: expected 2304 grey levels 0-255, got 3"),
    ("3", "256 " * 2304, "Training", "row 3: expected 2304 grey levels 0-255, got levels 256 to 256"),
    ("3", "1.5 " * 2304, "Training", "row 3: pixels are not integers"),
]


@pytest.mark.parametrize(("label", "pixels", "usage", "problem"), MALFORMED)
def test_malformed_row_is_skipped_and_reported_with_its_row_number(
    fer_csv: WriteFerCsv, face_rows: MakeFaceRows, label: str, pixels: str, usage: str, problem: str
) -> None:
    good = face_rows(2, 1)
    bad_row = (label, good[0][1] if pixels == "face" else pixels.strip(), usage)
    splits, report = load_dataset(fer_csv([good[0], bad_row, *good[1:]]))

    assert len(report.skipped) == 1 and report.skipped[0].startswith(problem)
    assert splits["train"].rows.tolist() == [2, 4]  # the neighbours keep their own row numbers
    assert splits["test"].rows.tolist() == [5]


def test_row_with_a_missing_field_is_reported(tmp_path: Path, face_rows: MakeFaceRows) -> None:
    label, pixels, usage = face_rows(1, 1)[0]
    path = tmp_path / "short.csv"
    path.write_text(f"emotion,pixels,Usage\n{label},{pixels},{usage}\n{label},{pixels}\n")

    _, report = load_dataset(path)

    assert report.skipped == ["row 3: expected 3 fields, got 2"]


def test_csv_without_the_kaggle_header_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.csv"
    path.write_text("label,image\n3,1 2 3\n")

    with pytest.raises(MalformedDataError, match="expected the header 'emotion,pixels,Usage'"):
        load_dataset(path)


def test_missing_path_is_a_file_not_found_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="no such file or folder"):
        load_dataset(tmp_path / "nowhere.csv")


def test_folder_layout_loads_each_split_with_labels_from_folder_names(
    tmp_path: Path, faces: MakeFaces
) -> None:
    images, labels = faces(21, 1)
    write_face_folder(tmp_path, images, labels)

    splits, report = load_dataset(tmp_path)

    assert sorted(splits) == ["test", "train"]
    assert len(splits["train"]) == 14 and len(splits["test"]) == 7
    assert sorted(splits["test"].labels.tolist()) == sorted(labels[::3].tolist())
    assert report.skipped == []


def test_folder_images_of_another_size_are_resized_to_48(tmp_path: Path, faces: MakeFaces) -> None:
    images, labels = faces(6, 2)
    write_face_folder(tmp_path, images, labels, side=96)

    splits, _ = load_dataset(tmp_path)

    assert splits["train"].images.shape[1:] == (48, 48)


def test_folder_problems_are_skipped_with_a_report(tmp_path: Path, faces: MakeFaces) -> None:
    images, labels = faces(6, 3)
    write_face_folder(tmp_path, images, labels)
    (tmp_path / "train" / "contempt").mkdir()
    (tmp_path / "train" / "happy").mkdir(exist_ok=True)
    (tmp_path / "train" / "happy" / "broken.jpg").write_bytes(b"not a jpeg")

    _, report = load_dataset(tmp_path)
    assert len(report.skipped) == 2
    assert any("contempt: unknown emotion folder" in problem for problem in report.skipped)
    assert any("broken.jpg: not a readable image" in problem for problem in report.skipped)


@pytest.mark.parametrize(
    ("name", "content"), [("binary.csv", bytes(range(256)) * 8), ("cut.csv.gz", b"\x1f\x8b\x08\x00broken")]
)
def test_a_file_that_is_not_csv_text_is_refused_with_its_name(
    tmp_path: Path, name: str, content: bytes
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(MalformedDataError, match=f"{name}: not a readable CSV"):
        load_dataset(path)


def test_folder_without_split_and_emotion_folders_is_refused(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("no faces here")

    with pytest.raises(MalformedDataError, match="no <split>/<emotion>/ image folders"):
        load_dataset(tmp_path)


def test_ferplus_votes_become_distributions_and_not_face_majorities_are_flagged(tmp_path: Path) -> None:
    path = write_ferplus_votes(
        tmp_path / "votes.csv", ["Training,a.png,2,8,0,0,0,0,0,0,0,0", "Training,b.png,0,0,0,0,0,0,0,0,2,8"]
    )

    distributions, is_face = load_ferplus_votes(path)

    assert is_face.tolist() == [True, False]
    assert distributions[0].tolist() == pytest.approx([0, 0, 0, 0.8, 0, 0, 0.2])  # happy 8, neutral 2
    assert distributions[1].sum() == 0  # no emotion votes: no opinion
