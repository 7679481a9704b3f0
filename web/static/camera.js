// The webcam: start and stop it, and grab the current frame as a small JPEG for the server.

const CAPTURE_WIDTH_PX = 480; // wide enough for faces ~60 px tall at arm's length, small enough to send fast
const JPEG_QUALITY = 0.8;

/** Why the camera cannot be used before even asking, or null when it is worth asking. */
export function cameraUnavailableReason() {
  if (!window.isSecureContext) {
    return "The camera only works on a secure page (https:// or localhost). You can still choose a photo.";
  }
  if (!navigator.mediaDevices?.getUserMedia) {
    return "This browser cannot share a camera with the page. You can still choose a photo.";
  }
  return null;
}

/** A sentence a person can act on, for a getUserMedia failure. */
export function describeCameraError(error) {
  switch (error?.name) {
    case "NotAllowedError":
    case "SecurityError":
      return "Camera access was denied. Allow it in the browser's site settings, or choose a photo instead.";
    case "NotFoundError":
    case "OverconstrainedError":
      return "No camera was found. Plug one in and try again, or choose a photo instead.";
    case "NotReadableError":
    case "AbortError":
      return "The camera is busy in another app. Close it there and try again, or choose a photo instead.";
    default:
      return `The camera could not start (${error?.message || error}). You can choose a photo instead.`;
  }
}

export class Camera {
  constructor(video) {
    this.video = video;
    this.stream = null;
    this.canvas = document.createElement("canvas");
    this.context = this.canvas.getContext("2d");
  }

  get running() {
    return this.stream !== null;
  }

  /** Ask for the camera and show it; throws the browser's error so the caller can explain it. `onEnded`
   * is called if the camera stops by itself (unplugged, or its permission taken back). */
  async start(onEnded = () => {}) {
    this.stream = await navigator.mediaDevices.getUserMedia({
      video: { width: { ideal: 640 }, height: { ideal: 480 }, facingMode: "user" },
      audio: false,
    });
    for (const track of this.stream.getVideoTracks()) track.addEventListener("ended", onEnded, { once: true });
    this.video.srcObject = this.stream;
    try {
      await this.video.play();
    } catch (error) {
      this.stop(); // no camera light left on for a video that never played
      throw error;
    }
  }

  stop() {
    for (const track of this.stream?.getTracks() ?? []) track.stop();
    this.stream = null;
    this.video.srcObject = null;
  }

  /** The frame size the server sees, or null before the first frame has arrived. */
  get frameSize() {
    const { videoWidth, videoHeight } = this.video;
    if (!videoWidth || !videoHeight) return null;
    const width = Math.min(CAPTURE_WIDTH_PX, videoWidth) & ~1;
    return { width, height: Math.round((videoHeight * width) / videoWidth) & ~1 };
  }

  /** The current frame, unmirrored, as JPEG bytes plus the size the face boxes will refer to. */
  async capture() {
    const size = this.frameSize;
    if (!this.running || !size) return null;
    this.canvas.width = size.width;
    this.canvas.height = size.height;
    this.context.drawImage(this.video, 0, 0, size.width, size.height);
    const blob = await new Promise((resolve) => this.canvas.toBlob(resolve, "image/jpeg", JPEG_QUALITY));
    // Bytes rather than the Blob: the socket sends them at once, and devtools can see what was sent.
    return blob ? { jpeg: await blob.arrayBuffer(), size } : null;
  }
}
