"""POST /predict: the response the page relies on, both ways of sending a photo, and every refusal."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from model.labels import EMOTIONS
from service.main import create_app
from service.samples import ASTRONAUT_FACE, astronaut_face
from service.vision.boxes import Box
from tests.support import vision_settings
from tests.vision.frames import (
    astronaut_grey,
    encode,
    png_header_only,
    with_orientation,
)

FACE_KEYS = {"box", "emotion", "confidence", "scores"}


def iou_with_astronaut(box: dict[str, int]) -> float:
    return Box(box["x"], box["y"], box["w"], box["h"]).iou(ASTRONAUT_FACE)


def post_raw(client: TestClient, data: bytes, media_type: str, query: str = "") -> Any:
    return client.post(f"/predict{query}", content=data, headers={"Content-Type": media_type})


def post_form(client: TestClient, data: bytes, media_type: str = "image/jpeg", field: str = "file") -> Any:
    return client.post("/predict", files={field: ("photo", data, media_type)})


def test_a_photo_whose_exif_block_is_corrupt_is_analysed_not_an_error(vision_client: TestClient) -> None:
    response = post_raw(vision_client, with_orientation(astronaut_grey(), 1, corrupt=True), "image/jpeg")
    assert response.status_code == 200, response.text
    assert any(iou_with_astronaut(face["box"]) > 0.5 for face in response.json()["faces"])


def test_a_photo_as_a_form_field_gives_faces_image_size_and_mood(vision_client: TestClient) -> None:
    response = post_form(vision_client, encode(astronaut_grey()))
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"faces", "image", "mood", "min_face", "timings_ms"}
    assert body["image"] == {"width": 512, "height": 512}
    assert body["min_face"] == 24
    (face,) = body["faces"]
    assert set(face) == FACE_KEYS
    assert set(face["box"]) == {"x", "y", "w", "h"}
    assert iou_with_astronaut(face["box"]) > 0.7
    assert list(face["scores"]) == list(EMOTIONS)
    assert face["emotion"] == max(face["scores"], key=face["scores"].get)
    assert face["confidence"] == face["scores"][face["emotion"]]
    assert sum(face["scores"].values()) == pytest.approx(1.0, abs=1e-3)
    assert body["mood"] == {key: face[key] for key in ("emotion", "confidence", "scores")}
    assert set(body["timings_ms"]) == {"decode_ms", "detect_ms", "classify_ms", "total_ms"}


@pytest.mark.parametrize(
    ("image_format", "media_type"),
    [("JPEG", "image/jpeg"), ("JPEG", "image/jpg"), ("PNG", "image/png"), ("WEBP", "image/webp")],
)
def test_a_photo_as_the_raw_body_is_taken_in_each_format(
    vision_client: TestClient, image_format: str, media_type: str
) -> None:
    response = post_raw(vision_client, encode(astronaut_grey(), image_format, quality=95), media_type)
    assert response.status_code == 200
    assert [iou_with_astronaut(face["box"]) > 0.7 for face in response.json()["faces"]] == [True]


def test_a_form_file_of_unnamed_type_is_judged_by_its_content(vision_client: TestClient) -> None:
    assert post_form(vision_client, encode(astronaut_grey()), "application/octet-stream").status_code == 200


def test_boxes_are_in_the_pixels_of_the_photo_as_seen_after_exif_rotation(vision_client: TestClient) -> None:
    exif = Image.Exif()
    exif[0x0112] = 8  # stored rotated: "rotate 90 degrees counter-clockwise to display"
    stored = np.rot90(astronaut_grey(), k=-1).copy()
    body = post_form(vision_client, encode(stored, exif=exif)).json()
    assert body["image"] == {"width": 512, "height": 512}
    assert [iou_with_astronaut(face["box"]) > 0.7 for face in body["faces"]] == [True]


def test_detect_false_reads_the_whole_image_as_one_face(vision_client: TestClient) -> None:
    body = post_raw(vision_client, encode(astronaut_face()), "image/jpeg", "?detect=false").json()
    assert [face["box"] for face in body["faces"]] == [{"x": 0, "y": 0, "w": 95, "h": 95}]
    assert body["min_face"] is None


def test_min_face_larger_than_every_face_finds_none(vision_client: TestClient) -> None:
    body = post_raw(vision_client, encode(astronaut_grey()), "image/jpeg", "?min_face=200").json()
    assert body["faces"] == [] and body["mood"] is None and body["min_face"] == 200


def test_min_face_below_the_cascade_window_is_refused_with_422(vision_client: TestClient) -> None:
    assert post_raw(vision_client, encode(astronaut_grey()), "image/jpeg", "?min_face=8").status_code == 422


def test_a_large_form_upload_is_read_in_memory_never_spooled_to_disk(
    vision_client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_disk(*args: object, **kwargs: object) -> None:
        raise AssertionError("the upload went to a temporary file")

    monkeypatch.setattr(tempfile, "TemporaryFile", no_disk)
    noisy = np.random.default_rng(0).integers(0, 256, (1200, 1200), np.uint8)
    photo = encode(noisy, "PNG")
    assert len(photo) > 1024 * 1024  # over Starlette's 1 MB spool
    assert post_form(vision_client, photo, "image/png").status_code == 200


def detail_of(response: Any, status_code: int) -> str:
    assert response.status_code == status_code, response.text
    detail = response.json()["detail"]
    assert isinstance(detail, str) and detail
    return detail


def test_rejects_too_many_bytes_with_413_from_the_declared_length(vision_client: TestClient) -> None:
    too_big = bytes(8 * 1024 * 1024 + 1)
    assert "limit" in detail_of(post_raw(vision_client, too_big, "image/jpeg"), 413)


def test_rejects_too_many_bytes_in_a_form_with_413(vision_client: TestClient) -> None:
    too_big = bytes(8 * 1024 * 1024 + 1)
    assert "limit" in detail_of(post_form(vision_client, too_big), 413)


def test_rejects_a_form_whose_declared_length_is_too_large_with_413_before_reading_it(
    vision_client: TestClient,
) -> None:
    body = b"--b\r\nContent-Disposition: form-data; name=file; filename=a.jpg\r\n\r\n"
    headers = {"Content-Type": "multipart/form-data; boundary=b", "Content-Length": str(10**11)}
    # The body sent is short: were the server to wait for the declared length, this would hang.
    response = vision_client.post("/predict", content=body, headers=headers)
    assert "limit" in detail_of(response, 413)


def test_rejects_a_body_that_outgrows_the_limit_without_a_declared_length_with_413(
    vision_client: TestClient,
) -> None:
    def chunks() -> Any:
        for _ in range(9):
            yield bytes(1024 * 1024)

    response = vision_client.post("/predict", content=chunks(), headers={"Content-Type": "image/png"})
    assert "limit" in detail_of(response, 413)


def test_rejects_a_decompression_bomb_with_413(vision_client: TestClient) -> None:
    assert "pixels" in detail_of(post_raw(vision_client, png_header_only(30_000, 30_000), "image/png"), 413)


def test_rejects_a_truncated_jpeg_with_400(vision_client: TestClient) -> None:
    data = encode(astronaut_grey())
    assert "truncated" in detail_of(post_raw(vision_client, data[: len(data) // 2], "image/jpeg"), 400)


def test_rejects_bytes_that_are_not_an_image_with_400(vision_client: TestClient) -> None:
    detail_of(post_raw(vision_client, b"this is not a picture", "image/png"), 400)


def test_rejects_a_declared_type_we_do_not_take_with_415(vision_client: TestClient) -> None:
    assert "text/plain" in detail_of(post_raw(vision_client, b"hello", "text/plain"), 415)
    assert "image/gif" in detail_of(
        post_form(vision_client, encode(astronaut_grey(), "GIF"), "image/gif"), 415
    )


def test_rejects_a_real_image_of_a_type_we_do_not_take_with_415(vision_client: TestClient) -> None:
    gif_as_jpeg = encode(astronaut_grey(), "GIF")
    assert "GIF" in detail_of(post_raw(vision_client, gif_as_jpeg, "image/jpeg"), 415)


def test_rejects_a_form_without_the_file_field_with_400(vision_client: TestClient) -> None:
    detail = detail_of(post_form(vision_client, encode(astronaut_grey()), field="photo"), 400)
    assert detail.startswith("the form has no file field 'file'")


def test_the_server_keeps_answering_after_bad_input(vision_client: TestClient) -> None:
    post_raw(vision_client, b"\xff\xd8\xff" + bytes(50), "image/jpeg")
    assert post_raw(vision_client, encode(astronaut_grey()), "image/jpeg").status_code == 200


def test_without_a_usable_model_predict_answers_503_and_says_why(tmp_path: Path) -> None:
    with TestClient(create_app(vision_settings(tmp_path / "missing.onnx", tmp_path))) as client:
        assert "not found" in detail_of(post_raw(client, encode(astronaut_grey()), "image/jpeg"), 503)
        assert client.get("/healthz").status_code == 200


def test_the_openapi_docs_describe_both_ways_to_send_a_photo(vision_client: TestClient) -> None:
    operation = vision_client.get("/openapi.json").json()["paths"]["/predict"]["post"]
    assert {"multipart/form-data", "image/jpeg", "image/png", "image/webp"} <= set(
        operation["requestBody"]["content"]
    )
    assert {"200", "400", "413", "415"} <= set(operation["responses"])


def test_min_face_larger_than_the_photo_finds_no_face_rather_than_failing(vision_client: TestClient) -> None:
    response = post_raw(vision_client, encode(astronaut_grey()), "image/jpeg", "?min_face=60000")
    assert response.status_code == 200
    assert response.json()["faces"] == [] and response.json()["min_face"] == 60000


def test_a_min_face_larger_than_any_image_we_take_is_refused_with_422(vision_client: TestClient) -> None:
    response = post_raw(
        vision_client, encode(astronaut_grey()), "image/jpeg", "?min_face=99999999999999999999999"
    )
    assert response.status_code == 422 and "65535" in response.text
