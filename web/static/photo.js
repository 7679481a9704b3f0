// The no-camera path: one photo through POST /predict, shown on the stage like a video frame.

import { fetchJson } from "./http.js";

export async function predictPhoto(file) {
  const form = new FormData();
  form.append("file", file);
  return fetchJson("/predict", { method: "POST", body: form });
}
