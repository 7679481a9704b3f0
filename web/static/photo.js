// The no-camera path: one photo through POST /predict, shown on the stage like a video frame.

import { fetchJson } from "./http.js";

/** POST /predict's answer for one photo, sent as the form field the server reads (`field`). */
export async function predictPhoto(file, field) {
  const form = new FormData();
  form.append(field, file);
  return fetchJson("/predict", { method: "POST", body: form });
}

/** What a person should read when a photo is refused: the reason in plain words, not the API's.
 *  `kinds` names the formats the server takes ("JPEG, PNG or WebP"). */
export function describePhotoError(error, kinds) {
  switch (error.status) {
    case 415:
      return `That file is not a photo. Choose a ${kinds} image.`;
    case 413:
      return "That photo is too large to read here. Try a smaller one (a phone photo is fine).";
    case 400:
      return "That photo could not be read: the file may be damaged or not an image.";
    case 429:
      return "Too many photos at once. Wait a moment and try again.";
    default:
      return `That photo could not be read: ${error.message}`;
  }
}
