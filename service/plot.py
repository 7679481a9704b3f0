"""The timeline's plot: each track's emotion probabilities over time, in the page's colours (the plot extra,
matplotlib, is imported only to draw)."""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path

from service.frames import AnalysedFrame

MAX_PLOTTED_TRACKS = 8
FEW_POINTS = 5  # a track with fewer readings is drawn with a marker at each


def page_colours(css_path: Path) -> dict[str, str]:
    """The page's colour for each emotion (`--emotion-NAME: #rrggbb` in its stylesheet), so plots match."""
    return dict(re.findall(r"--emotion-(\w+):\s*(#[0-9a-fA-F]{6})", css_path.read_text(encoding="utf-8")))


class Plot:
    """Each track's emotion probabilities over time, one panel per track, in the page's colours: the
    `MAX_PLOTTED_TRACKS` tracks seen in the most frames, so that a crowd still gives a readable figure."""

    def __init__(self, labels: list[str], colours: dict[str, str], time_axis: str):
        self.labels, self.colours, self.time_axis = labels, colours, time_axis
        self.series: defaultdict[int, list[tuple[float, list[float]]]] = defaultdict(list)

    def add(self, frame: AnalysedFrame) -> None:
        for face in frame.faces:
            if face.track_id is not None and not face.held:  # a held face's reading is an old one
                self.series[face.track_id].append(
                    (frame.time_s, [face.reading.scores[x] for x in self.labels])
                )

    def plotted_tracks(self) -> list[int]:
        """The tracks drawn, in order: those with the most readings (the earlier of equal ones)."""
        longest = sorted(self.series, key=lambda track: (-len(self.series[track]), track))
        return sorted(longest[:MAX_PLOTTED_TRACKS])

    def write(self, path: Path, title: str) -> None:
        import matplotlib  # the plot extra; the rows and the summary need nothing more

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        tracks = self.plotted_tracks() or [0]
        if len(self.series) > len(tracks):
            title += f" (the {len(tracks)} tracks seen longest, of {len(self.series)})"
        figure, axes = plt.subplots(
            len(tracks), 1, figsize=(10, 1.2 + 2.2 * len(tracks)), squeeze=False, sharex=True
        )
        for axis, track in zip(axes[:, 0], tracks, strict=True):
            points = self.series.get(track, [])
            times = [time_s for time_s, _ in points]
            marker = "o" if len(points) < FEW_POINTS else None  # a line through one point shows nothing
            for column, label in enumerate(self.labels):
                values = [scores[column] for _, scores in points]
                colour = self.colours.get(label, "#888888")
                axis.plot(
                    times, values, color=colour, label=label, linewidth=1.4, marker=marker, markersize=4
                )
            axis.set_ylim(0, 1)
            axis.set_ylabel(f"track {track}" if points else "no face")
            axis.grid(alpha=0.3)
        axes[0, 0].set_title(title)
        axes[0, 0].legend(loc="upper left", bbox_to_anchor=(1.01, 1), frameon=False)
        axes[-1, 0].set_xlabel(self.time_axis)
        figure.supylabel("probability")
        figure.tight_layout()
        figure.savefig(path, dpi=110)
        plt.close(figure)
