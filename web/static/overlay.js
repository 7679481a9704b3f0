// Face boxes with their emotion and confidence, drawn over the video or photo they were found in.
//
// The media is shown with object-fit: contain, so it is letterboxed inside the stage at any window size;
// the overlay canvas covers the whole stage and maps frame pixels through the same fit. A mirrored video
// (the selfie view) flips the boxes, not the text.

import { clearCanvas, emotionColour, percent } from "./draw.js";

/** Where a frame of frameSize sits inside a box of boxWidth x boxHeight under object-fit: contain. */
function containedRect(frameSize, boxWidth, boxHeight) {
  const scale = Math.min(boxWidth / frameSize.width, boxHeight / frameSize.height);
  return {
    scale,
    left: (boxWidth - frameSize.width * scale) / 2,
    top: (boxHeight - frameSize.height * scale) / 2,
  };
}

export class Overlay {
  constructor(canvas) {
    this.canvas = canvas;
    this.context = canvas.getContext("2d");
    this.faces = [];
    this.frameSize = null;
    this.mirrored = false;
    new ResizeObserver(() => this.draw()).observe(canvas);
  }

  show(faces, frameSize, { mirrored }) {
    Object.assign(this, { faces, frameSize, mirrored });
    this.draw();
  }

  clear() {
    this.show([], null, { mirrored: false });
  }

  draw() {
    const { width, height } = clearCanvas(this.canvas, this.context);
    if (!this.frameSize || !width || !height) return;
    const fit = containedRect(this.frameSize, width, height);
    for (const face of this.faces) this.drawFace(face, fit, width);
  }

  drawFace(face, fit, canvasWidth) {
    const { context } = this;
    const { x, y, w, h } = face.box;
    const left = fit.left + (this.mirrored ? this.frameSize.width - x - w : x) * fit.scale;
    const top = fit.top + y * fit.scale;
    const colour = emotionColour(face.emotion);
    context.lineWidth = 3;
    context.strokeStyle = colour;
    // A held face (not found in this frame, its track kept for a moment) is drawn dashed.
    context.setLineDash(face.held ? [8, 6] : []);
    context.strokeRect(left, top, w * fit.scale, h * fit.scale);
    context.setLineDash([]);

    const label = `${face.emotion} ${percent(face.confidence)}`;
    context.font = "600 15px system-ui, sans-serif";
    const labelWidth = context.measureText(label).width + 12;
    const labelHeight = 22;
    // Above the box when there is room, inside its top edge when the face touches the top of the frame,
    // and pulled left when the face is at the right edge, so the label is always readable.
    const labelTop = top - labelHeight >= 0 ? top - labelHeight : top;
    const labelLeft = Math.max(0, Math.min(left - 1.5, canvasWidth - labelWidth));
    context.fillStyle = colour;
    context.fillRect(labelLeft, labelTop, labelWidth, labelHeight);
    context.fillStyle = "#000";
    context.textBaseline = "middle";
    context.fillText(label, labelLeft + 6, labelTop + labelHeight / 2 + 1);
  }
}
