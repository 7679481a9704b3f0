"""The web page: GET / renders the single-page template; its script and styles are served from /static."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from model.labels import EMOTIONS
from service.api.deps import TemplatesDep
from service.api.uploads import FORM_FIELD
from service.news.ranking import DEFAULT_POLICY, Policy
from service.video import VIDEO_KINDS, VIDEO_TYPES
from service.vision.images import ACCEPTED_MEDIA_TYPES, PHOTO_KINDS

router = APIRouter(tags=["page"])

# How the page offers each ranking policy: its radio button's label, and its words in the feed's heading.
POLICY_WORDS = {
    Policy.UPLIFT: ("lift my mood", "to lift"),
    Policy.MATCH: ("match my mood", "that match"),
}


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
def index(request: Request, templates: TemplatesDep) -> HTMLResponse:
    """The page a viewer opens: camera, live overlay, mood and the feed that follows it."""
    choices = {
        "emotions": EMOTIONS,
        "image_types": sorted(ACCEPTED_MEDIA_TYPES),
        "photo_kinds": PHOTO_KINDS,
        "video_types": list(VIDEO_TYPES),
        "video_kinds": VIDEO_KINDS,
        "upload_field": FORM_FIELD,
        "policies": [
            {
                "value": policy.value,
                "label": POLICY_WORDS[policy][0],
                "heading": POLICY_WORDS[policy][1],
                "checked": policy is DEFAULT_POLICY,
            }
            for policy in Policy  # each one the ranking knows, so a new one cannot go unoffered
        ],
    }
    return templates.TemplateResponse(request, "index.html", choices)
