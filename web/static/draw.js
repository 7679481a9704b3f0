// What the canvases and bars share: one colour per emotion (defined once in app.css as --emotion-NAME),
// percentages, and a canvas sized for the screen's pixel density.

const FALLBACK_COLOUR = "#c8ced6";

export function emotionColour(emotion) {
  const value = getComputedStyle(document.documentElement).getPropertyValue(`--emotion-${emotion}`).trim();
  return value || FALLBACK_COLOUR;
}

export function percent(probability) {
  return `${Math.round(probability * 100)}%`;
}

/** One reading's emotions stacked top to bottom between x = left and x = right, each band as tall as its
 * share of `height`, in the emotions' colours; a pixel wider than asked, so neighbouring readings leave
 * no hairline gaps. */
export function drawBands(context, emotions, scores, left, right, height) {
  let top = 0;
  for (const emotion of emotions) {
    const band = (scores[emotion] ?? 0) * height;
    context.fillStyle = emotionColour(emotion);
    context.fillRect(left, top, Math.max(right - left, 1) + 1, band);
    top += band;
  }
}

/** Size a canvas's pixels to its CSS box (sharp on high-DPI screens), clear it, and return its CSS size. */
export function clearCanvas(canvas, context) {
  const ratio = window.devicePixelRatio || 1;
  const width = canvas.clientWidth;
  const height = canvas.clientHeight;
  canvas.width = Math.round(width * ratio);
  canvas.height = Math.round(height * ratio);
  context.setTransform(ratio, 0, 0, ratio, 0, 0);
  context.clearRect(0, 0, width, height);
  return { width, height };
}
