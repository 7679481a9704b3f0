// The live stream: frames go to /ws/stream one at a time, answers come back, a lost socket reconnects.
//
// Only one frame is ever in flight: the next is captured when the answer to the last arrives (and the
// chosen frame interval has passed), so a slow server lowers the frame rate instead of building a backlog.

const BACKOFF_FIRST_MS = 500;
const BACKOFF_MAX_MS = 15_000;
const ANSWER_TIMEOUT_MS = 10_000; // no answer this long means the socket is dead even if it looks open
const CAPTURE_RETRY_MS = 100; // the video has no frame yet

export function streamUrl() {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${location.host}/ws/stream`;
}

export class FrameStream {
  /**
   * capture: async () => {jpeg: ArrayBuffer, size} | null
   * onAnswer(answer, size): a processed frame's JSON and the size of the frame it answers
   * onState({state, delayMs, reason}): state is "connecting" | "live" | "reconnecting" | "idle"; a
   *   reconnection also says in how long and why
   * onError(message): the server could not read one frame (the stream carries on)
   */
  constructor({ url, capture, onAnswer, onState, onError }) {
    Object.assign(this, { url, capture, onAnswer, onState, onError });
    this.fps = 5;
    this.socket = null;
    this.running = false;
    this.inFlight = null; // size of the frame awaiting its answer
    this.lastSentAt = 0;
    this.failures = 0;
    this.timers = { send: 0, reconnect: 0, answer: 0 };
  }

  start() {
    if (this.running) return;
    this.running = true;
    this.failures = 0;
    this.connect();
  }

  stop() {
    this.running = false;
    this.clearTimers();
    this.inFlight = null;
    this.socket?.close(1000, "viewer stopped the camera");
    this.socket = null;
    this.onState({ state: "idle" });
  }

  setRate(fps) {
    this.fps = fps;
  }

  connect() {
    this.onState({ state: "connecting" });
    const socket = new WebSocket(this.url);
    this.socket = socket;
    socket.addEventListener("open", () => {
      this.onState({ state: "live" });
      this.scheduleSend();
    });
    socket.addEventListener("message", (event) => this.receive(event.data));
    socket.addEventListener("close", (event) => {
      if (socket === this.socket) this.lost(event.reason);
    });
  }

  receive(text) {
    const size = this.inFlight;
    this.inFlight = null;
    clearTimeout(this.timers.answer);
    let answer;
    try {
      answer = JSON.parse(text);
    } catch {
      answer = { error: "the server sent something that is not JSON" };
    }
    if (answer.error) {
      this.onError(answer.error);
    } else {
      this.failures = 0; // reset only on a real answer, so a server that accepts then drops still backs off
      this.onAnswer(answer, size);
    }
    this.scheduleSend();
  }

  scheduleSend() {
    if (!this.running || this.timers.send || this.inFlight) return;
    this.sendAfter(Math.max(0, this.lastSentAt + 1000 / this.fps - performance.now()));
  }

  sendAfter(delayMs) {
    this.timers.send = setTimeout(() => {
      this.timers.send = 0;
      this.send();
    }, delayMs);
  }

  async send() {
    const socket = this.socket;
    if (!this.running || this.inFlight || socket?.readyState !== WebSocket.OPEN) return;
    const frame = await this.capture();
    if (!frame) {
      this.sendAfter(CAPTURE_RETRY_MS);
      return;
    }
    if (socket !== this.socket || socket.readyState !== WebSocket.OPEN || this.inFlight) return;
    this.inFlight = frame.size;
    this.lastSentAt = performance.now();
    socket.send(frame.jpeg);
    this.timers.answer = setTimeout(() => socket.close(4000, "no answer"), ANSWER_TIMEOUT_MS);
  }

  lost(reason) {
    this.clearTimers();
    this.inFlight = null;
    this.socket = null;
    if (!this.running) return;
    const delayMs = Math.min(BACKOFF_MAX_MS, BACKOFF_FIRST_MS * 2 ** this.failures) * (0.75 + Math.random() / 2);
    this.failures += 1;
    this.onState({ state: "reconnecting", delayMs, reason });
    this.timers.reconnect = setTimeout(() => this.connect(), delayMs);
  }

  clearTimers() {
    for (const timer of Object.values(this.timers)) clearTimeout(timer);
    this.timers = { send: 0, reconnect: 0, answer: 0 };
  }
}
