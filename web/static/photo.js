// The no-camera path: one photo through POST /predict, shown on the stage like a video frame.

import { fetchJson } from "./http.js";

export async function predictPhoto(file) {
  const form = new FormData();
  form.append("file", file);
  return fetchJson("/predict", { method: "POST", body: form });
}

/**
 * The mood a photo shows: the server's own when it gives one, else the largest face's scores
 * (the same "largest face counts most" rule the stream uses), or null when no face was found.
 */
export function photoMood(prediction) {
  if (prediction.mood) return prediction.mood;
  const area = (face) => face.box.w * face.box.h;
  const largest = [...prediction.faces].sort((a, b) => area(b) - area(a))[0];
  return largest ? { emotion: largest.emotion, confidence: largest.confidence, scores: largest.scores } : null;
}
