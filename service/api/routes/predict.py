"""POST /predict: the faces in one photo, each with its emotion, and the photo's mood."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from service.api.deps import UploadsDep, VisionDep, client_of
from service.api.schemas import PredictOut
from service.api.uploads import BINARY_SCHEMA, FORM_FIELD, http_error, read_image_upload
from service.vision.faces import MAX_FACE_PX, WINDOW_PX
from service.vision.images import ACCEPTED_MEDIA_TYPES, PHOTO_KINDS, ImageError

router = APIRouter(tags=["vision"])

# The body is read by hand (to stay in memory and under the size limit), so describe it for /docs here.
REQUEST_BODY: dict[str, Any] = {
    "required": True,
    "content": {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "properties": {FORM_FIELD: BINARY_SCHEMA},
                "required": [FORM_FIELD],
            }
        },
        **{media_type: {"schema": BINARY_SCHEMA} for media_type in sorted(ACCEPTED_MEDIA_TYPES)},
    },
}
_ERROR = {"content": {"application/json": {"example": {"detail": "why the image was refused"}}}}
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"description": "Not an image, or truncated or corrupt", **_ERROR},
    413: {"description": "Too many bytes, or too many pixels", **_ERROR},
    415: {"description": f"Not {PHOTO_KINDS}", **_ERROR},
    503: {"description": "The emotion model is not loaded", **_ERROR},
}


@router.post("/predict", responses=ERROR_RESPONSES, openapi_extra={"requestBody": REQUEST_BODY})
async def predict(
    request: Request,
    vision: VisionDep,
    uploads: UploadsDep,
    detect: Annotated[bool, Query(description="false: the whole image is one face crop")] = True,
    min_face: Annotated[
        int | None,
        Query(
            ge=WINDOW_PX,
            le=MAX_FACE_PX,
            description="smallest face to look for, in pixels: larger is faster. "
            "By default MOODFEED_PREDICT_MIN_FACE_PX, or MOODFEED_PREDICT_MIN_FACE_FRACTION of a large "
            "photo's shorter side.",
        ),
    ] = None,
) -> PredictOut:
    """Find the faces in a JPEG, PNG or WebP photo and read each one's emotion.

    Send the image as the multipart form field `file`, or as the raw body with its image Content-Type.
    Boxes are in the photo's pixels as a viewer sees it (EXIF rotation applied), largest face first.
    """
    client = client_of(request)
    async with uploads.slot(client):  # bounds the bodies held in memory at once, fairly across clients
        data = await read_image_upload(request, vision.engine.photo.limits)
        try:
            analysis = await vision.analyse_photo(client, data, detect, min_face)
        except ImageError as error:
            raise http_error(error) from None
    return PredictOut.of(analysis)
