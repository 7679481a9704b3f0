"""`python -m service.video_bench` on a short clip: it prints speed and how the face was followed."""

from __future__ import annotations

import re

import pytest

from service import video_bench


def test_the_video_bench_follows_the_face_under_one_track_covered_or_not(
    capsys: pytest.CaptureFixture[str],
) -> None:
    video_bench.main(["--seconds", "4"])

    plain, covered = capsys.readouterr().out.splitlines()
    assert plain.startswith("120 frames (4 s of 600x340 video at 30 fps)")
    found = re.search(r"face found in (\d+)% of frames, (\d+) track", plain)
    assert found and int(found[1]) >= 95 and found[2] == "1"
    assert covered.startswith("The same face covered 2 times for 0.1-0.4 s: 1 track(s);")
    held = re.search(r"held in (\d+)%", covered)
    assert held and int(held[1]) > 0
