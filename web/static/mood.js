// The viewer's mood as it is now (one bar per emotion) and over the last minute (a stacked timeline).

import { clearCanvas, drawBands, percent } from "./draw.js";

const TIMELINE_WINDOW_MS = 60_000;
const LONGEST_STEP_MS = 2_000; // a reading is drawn until the next one, but no longer than this

export class MoodBars {
  constructor(container, emotions) {
    this.rows = new Map();
    for (const emotion of emotions) {
      const row = document.createElement("div");
      row.className = "bar-row";
      row.setAttribute("role", "listitem");
      const label = document.createElement("span");
      label.className = "bar-label";
      label.textContent = emotion;
      const track = document.createElement("span");
      track.className = "bar-track";
      const fill = document.createElement("span");
      fill.className = `bar-fill emotion-${emotion}`;
      track.append(fill);
      const value = document.createElement("span");
      value.className = "bar-value";
      value.textContent = "–";
      row.append(label, track, value);
      container.append(row);
      this.rows.set(emotion, { row, fill, value });
    }
  }

  clear() {
    this.show(null);
  }

  show(mood) {
    for (const [emotion, { row, fill, value }] of this.rows) {
      const probability = mood?.scores?.[emotion] ?? 0;
      fill.style.width = `${(probability * 100).toFixed(1)}%`;
      value.textContent = mood ? percent(probability) : "–";
      row.classList.toggle("dominant", mood?.emotion === emotion);
    }
  }
}

export class MoodTimeline {
  constructor(canvas, emotions) {
    this.canvas = canvas;
    this.context = canvas.getContext("2d");
    this.emotions = emotions;
    this.readings = []; // {at: ms, scores}
    this.emptyLabel = canvas.getAttribute("aria-label"); // the page's words for no readings yet
    new ResizeObserver(() => this.draw()).observe(canvas);
    setInterval(() => this.readings.length && this.draw(), 1000); // keep it scrolling while nothing arrives
  }

  add(scores) {
    const now = performance.now();
    this.readings.push({ at: now, scores });
    while (this.readings.length && this.readings[0].at < now - TIMELINE_WINDOW_MS - LONGEST_STEP_MS) {
      this.readings.shift();
    }
    this.draw();
  }

  draw() {
    const { canvas, context, readings } = this;
    const { width, height } = clearCanvas(canvas, context);
    const now = performance.now();
    const xAt = (time) => width * (1 - (now - time) / TIMELINE_WINDOW_MS);
    readings.forEach((reading, index) => {
      const end = Math.min(readings[index + 1]?.at ?? now, reading.at + LONGEST_STEP_MS);
      const left = Math.max(0, xAt(reading.at));
      const right = xAt(end);
      if (right > 0) drawBands(context, this.emotions, reading.scores, left, right, height);
    });
    canvas.setAttribute("aria-label", this.summary(now));
  }

  /** The timeline in words, for screen readers: the minute's average mood. */
  summary(now) {
    const recent = this.readings.filter((reading) => reading.at >= now - TIMELINE_WINDOW_MS);
    if (!recent.length) return this.emptyLabel;
    const ranked = this.emotions
      .map((emotion) => {
        const total = recent.reduce((sum, reading) => sum + (reading.scores[emotion] ?? 0), 0);
        return [emotion, total / recent.length];
      })
      .sort((a, b) => b[1] - a[1]);
    const [first, second] = ranked;
    return `Over the last minute: mostly ${first[0]} (${percent(first[1])}), then ${second[0]} (${percent(second[1])}).`;
  }
}
