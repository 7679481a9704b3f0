// "Analyse a video": a short clip through POST /analyze, its mood over the clip's time drawn as it comes.

import { apiError } from "./http.js";
import { clearCanvas, drawBands } from "./draw.js";

/** POST the clip and call onFrame(frame) for each analysed frame as it arrives; the summary at the end.
 * Aborting `signal` stops the upload or the reading of its answer (the promise then rejects). */
export async function analyseVideo(file, every, signal, onFrame) {
  const response = await fetch(`/analyze?every=${every}`, {
    method: "POST",
    body: file,
    headers: { "Content-Type": file.type || "application/octet-stream" },
    signal,
  });
  if (!response.ok) throw await apiError(response);
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let pending = "";
  let summary = null;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    pending += value;
    const lines = pending.split("\n");
    pending = lines.pop();
    for (const line of lines.filter(Boolean)) {
      const message = JSON.parse(line);
      if (message.summary) summary = message.summary;
      else if (message.error) throw new Error(message.error);
      else onFrame(message);
    }
  }
  return summary;
}

/** The clip's mood over its own time: stacked bands, one colour per emotion, as the live timeline. */
export class VideoTimeline {
  constructor(canvas, emotions) {
    this.canvas = canvas;
    this.context = canvas.getContext("2d");
    this.emotions = emotions;
    this.frames = [];
    this.emptyLabel = canvas.getAttribute("aria-label"); // the page's words for no readings yet
  }

  reset() {
    this.frames = [];
    this.draw();
  }

  add(frame) {
    if (frame.mood) this.frames.push({ time: frame.time_s, scores: frame.mood.scores });
    this.draw();
  }

  draw() {
    const { canvas, context, frames } = this;
    const { width, height } = clearCanvas(canvas, context);
    const end = Math.max(frames.at(-1)?.time ?? 0, 1e-6);
    frames.forEach((frame, index) => {
      const left = (frame.time / end) * width;
      const right = ((frames[index + 1]?.time ?? end) / end) * width;
      drawBands(context, this.emotions, frame.scores, left, right, height);
    });
    canvas.setAttribute("aria-label", this.describe());
  }

  /** The clip in words, for screen readers and the status line: its most frequent mood. */
  describe() {
    if (!this.frames.length) return this.emptyLabel;
    const counts = new Map();
    for (const frame of this.frames) {
      const top = this.emotions.reduce((a, b) => ((frame.scores[a] ?? 0) >= (frame.scores[b] ?? 0) ? a : b));
      counts.set(top, (counts.get(top) ?? 0) + 1);
    }
    const [emotion, count] = [...counts].sort((a, b) => b[1] - a[1])[0];
    return `The video reads mostly ${emotion} (${Math.round((100 * count) / this.frames.length)}% of its frames).`;
  }
}
