// The page: wires the camera (or a photo) to the overlay, the mood display and the feed.

import { Camera, cameraUnavailableReason, describeCameraError } from "./camera.js";
import { FrameStream, streamUrl } from "./connection.js";
import { Feed } from "./feed.js";
import { MoodBars, MoodTimeline } from "./mood.js";
import { Overlay } from "./overlay.js";
import { percent } from "./draw.js";
import { describePhotoError, predictPhoto } from "./photo.js";
import { analyseVideo, VideoTimeline } from "./video.js";

const FEED_REFRESH_MS = 15_000;
const FEED_MIN_GAP_MS = 3_000; // a mood flickering between two emotions must not hammer /feed

const byId = (id) => document.getElementById(id);
const ui = {
  main: document.querySelector("main"),
  connection: byId("connection"),
  stage: byId("stage"),
  video: byId("video"),
  photo: byId("photo"),
  hint: byId("stage-hint"),
  notice: byId("notice"),
  cameraToggle: byId("camera-toggle"),
  upload: byId("upload"),
  frameRate: byId("frame-rate"),
  measuredRate: byId("measured-rate"),
  faces: byId("faces"),
  moodSummary: byId("mood-summary"),
  moodPicker: byId("mood-picker"),
  feedMood: byId("feed-mood"),
};

const emotions = ui.main.dataset.emotions.split(" ");
const VIDEO_KINDS = ui.main.dataset.videoKinds; // "MP4, WebM, ...": the containers the server takes
const PHOTO_KINDS = ui.main.dataset.photoKinds; // "JPEG, PNG or WebP": the photo formats it takes
const UPLOAD_FIELD = ui.main.dataset.uploadField; // the form field /predict reads the photo from
const overlay = new Overlay(byId("overlay"));
const bars = new MoodBars(byId("mood-bars"), emotions);
const timeline = new MoodTimeline(byId("timeline"), emotions);
const videoTimeline = new VideoTimeline(byId("video-timeline"), emotions);
const VIDEO_EVERY_S = 0.2; // five readings a second of video: a smooth line, a quick answer
const feed = new Feed(byId("feed"), byId("feed-status"));
const camera = new Camera(ui.video);
const stream = new FrameStream({
  url: streamUrl(),
  capture: () => camera.capture(),
  onAnswer: showStreamAnswer,
  onState: showConnection,
  onError: (message) => showNotice(`The server could not read a frame: ${message}`),
});

let mood = null; // the latest mood read from the camera or a photo
let feedEmotion; // the dominant emotion the feed was last loaded for
let lastFeedLoadAt = -Infinity;
let feedTimer = 0;
let answerTimes = [];
let photoUrl = null;

// ---- messages and status -------------------------------------------------------------------------

function showNotice(message) {
  // An alert is read out each time it changes: the same words again (a refused frame five times a
  // second) would be read out over and over.
  if (ui.notice.textContent === (message ?? "")) return;
  ui.notice.textContent = message ?? "";
  ui.notice.hidden = !message;
}

const CONNECTION_WORDS = {
  idle: () => "Camera off",
  starting: () => "Starting the camera…",
  connecting: () => "Connecting to the server…",
  live: () => "Live: reading your mood",
  reconnecting: ({ delayMs, reason }) =>
    `Connection lost${reason ? ` (${reason})` : ""}. Reconnecting in ${Math.ceil(delayMs / 1000)} s…`,
  photo: () => "Showing your photo",
};

function showConnection(status) {
  ui.connection.dataset.state = status.state;
  ui.connection.textContent = CONNECTION_WORDS[status.state](status);
  if (status.state !== "live") ui.measuredRate.textContent = "";
}

function showMeasuredRate() {
  const now = performance.now();
  answerTimes = answerTimes.filter((time) => time > now - 2000);
  answerTimes.push(now);
  const perSecond = (answerTimes.length - 1) / ((now - answerTimes[0]) / 1000 || 1);
  ui.measuredRate.textContent = answerTimes.length > 2 ? `${perSecond.toFixed(1)} frames/s answered` : "";
}

// ---- faces and mood ------------------------------------------------------------------------------

function listFaces(faces) {
  const lines = faces.map(
    (face, index) =>
      `Face ${index + 1}: ${face.emotion}, ${percent(face.confidence)}` +
      (face.track_id === undefined ? "" : ` (track ${face.track_id}${face.held ? ", not seen this frame" : ""})`),
  );
  if (!lines.length) lines.push("No face in view.");
  if (lines.join("\n") === [...ui.faces.children].map((item) => item.textContent).join("\n")) return;
  ui.faces.replaceChildren(
    ...lines.map((line) => {
      const item = document.createElement("li");
      item.textContent = line;
      return item;
    }),
  );
}

function showMood(newMood) {
  mood = newMood;
  bars.show(mood);
  timeline.add(mood.scores);
  const summary = `: ${mood.emotion}`;
  if (ui.moodSummary.textContent !== summary) ui.moodSummary.textContent = summary;
  followMood();
}

/** Forget the faces and mood shown: the camera stopped, or a photo had no face. The timeline keeps its
 * history. */
function clearMood() {
  mood = null;
  bars.clear();
  ui.faces.replaceChildren();
  ui.moodSummary.textContent = "";
  followMood();
}

function showStreamAnswer(answer, frameSize) {
  showNotice(null);
  overlay.show(answer.faces, frameSize, { mirrored: true });
  if (answer.mood) showMood(answer.mood);
  else if (mood) clearMood(); // nobody in view for a while: the mood has faded out
  listFaces(answer.faces); // after clearMood, which empties the list
  showMeasuredRate();
}

function showOnStage(media, size) {
  for (const candidate of [ui.video, ui.photo]) candidate.hidden = candidate !== media;
  ui.hint.hidden = Boolean(media);
  if (size) ui.stage.style.aspectRatio = `${size.width} / ${size.height}`;
}

// ---- the feed ------------------------------------------------------------------------------------

function chosenPolicy() {
  return document.querySelector('input[name="policy"]:checked').value;
}

/** How the feed's heading names a policy ("to lift"), as the page's radio button for it says. */
function policyHeading(policy) {
  return document.querySelector(`input[name="policy"][value="${policy}"]`).dataset.heading;
}

/** The emotion the feed should follow: the one picked by hand, else the one read from the face. */
function wantedEmotion() {
  return ui.moodPicker.value || mood?.emotion || null;
}

async function refreshFeed() {
  clearTimeout(feedTimer);
  feedTimer = setTimeout(refreshFeed, FEED_REFRESH_MS);
  lastFeedLoadAt = performance.now();
  feedEmotion = wantedEmotion();
  const policy = chosenPolicy();
  const picked = ui.moodPicker.value;
  describeFeed(policy, picked || mood?.emotion, Boolean(picked));
  await feed.load(picked ? { policy, emotion: picked } : { policy, scores: mood?.scores });
}

function describeFeed(policy, emotion, picked) {
  ui.feedMood.textContent = emotion
    ? `Stories ${policyHeading(policy)} a ${emotion} mood${picked ? " (picked by hand)" : ""}.`
    : "No mood yet: the top recent stories.";
}

/** Reload the feed when the dominant emotion changes: the first mood at once, later ones at most once per
 * FEED_MIN_GAP_MS. */
function followMood() {
  if (wantedEmotion() === feedEmotion) return;
  const gapMs = feedEmotion ? FEED_MIN_GAP_MS : 0;
  clearTimeout(feedTimer);
  feedTimer = setTimeout(refreshFeed, Math.max(0, lastFeedLoadAt + gapMs - performance.now()));
}

// ---- camera and photo ----------------------------------------------------------------------------

async function startCamera() {
  showNotice(null);
  ui.cameraToggle.disabled = true;
  showConnection({ state: "starting" });
  stopVideoAnalysis();
  try {
    await camera.start(() => {
      stopCamera();
      showNotice("The camera stopped (unplugged, or its permission was withdrawn). Start it again, or choose a photo.");
    });
  } catch (error) {
    showNotice(describeCameraError(error));
    showConnection({ state: "idle" });
    return;
  } finally {
    ui.cameraToggle.disabled = false;
    // Disabling the focused button sent focus to the page; give it back, so the keyboard can stop it.
    if (document.activeElement === document.body) ui.cameraToggle.focus();
  }
  showOnStage(ui.video, { width: ui.video.videoWidth, height: ui.video.videoHeight });
  overlay.clear();
  ui.cameraToggle.textContent = "Stop camera";
  stream.start();
}

function stopCamera() {
  stream.stop();
  camera.stop();
  overlay.clear();
  showOnStage(null);
  clearMood();
  ui.cameraToggle.textContent = "Start camera";
}

async function usePhoto(file) {
  if (camera.running) stopCamera();
  stopVideoAnalysis();
  showNotice(null);
  showConnection({ state: "photo" });
  let prediction;
  try {
    prediction = await predictPhoto(file, UPLOAD_FIELD);
  } catch (error) {
    showNotice(describePhotoError(error, PHOTO_KINDS));
    showConnection({ state: "idle" });
    return;
  }
  if (photoUrl) URL.revokeObjectURL(photoUrl);
  photoUrl = URL.createObjectURL(file);
  ui.photo.src = photoUrl;
  await ui.photo.decode().catch(() => {});
  showOnStage(ui.photo, prediction.image);
  overlay.show(prediction.faces, prediction.image, { mirrored: false });
  // The server gives a mood whenever it found a face (the faces weighted by area), null otherwise.
  if (prediction.mood) showMood(prediction.mood);
  else {
    clearMood();
    showNotice("No face was found in that photo. Try one where a face is clearly visible and well lit.");
  }
  listFaces(prediction.faces); // after clearMood, which empties the list
}

let videoAnalysis = null; // the AbortController of the video being analysed, if one is

/** Stop the video analysis under way, if any: a new video, a photo or the camera replaces it. */
function stopVideoAnalysis() {
  videoAnalysis?.abort();
  videoAnalysis = null;
}

async function useVideo(file) {
  if (camera.running) stopCamera();
  stopVideoAnalysis();
  const analysis = (videoAnalysis = new AbortController());
  showNotice(null);
  byId("video-result").hidden = false;
  videoTimeline.reset();
  const status = byId("video-status");
  status.textContent = "Analysing the video…";
  let frames = 0;
  let secondsShown = -1;
  try {
    const summary = await analyseVideo(file, VIDEO_EVERY_S, analysis.signal, (frame) => {
      frames += 1;
      videoTimeline.add(frame);
      if (frame.mood) showMood(frame.mood);
      // A polite live region is read out on each change: once a second of video, not five times.
      if (Math.floor(frame.time_s) > secondsShown) {
        secondsShown = Math.floor(frame.time_s);
        status.textContent = `Analysing the video… ${secondsShown} s read`;
      }
    });
    const seconds = summary?.duration_s ?? 0;
    status.textContent = `${videoTimeline.describe()} ${frames} readings over ${seconds.toFixed(1)} s.`;
  } catch (error) {
    if (analysis.signal.aborted) {
      status.textContent = `Stopped after ${frames} readings, for what you chose next.`;
      return;
    }
    status.textContent = "";
    showNotice(error.status === 415 ? `That file is not a video. Choose a clip in one of these: ${VIDEO_KINDS}.`
      : `That video could not be read: ${error.message}`);
  } finally {
    if (videoAnalysis === analysis) videoAnalysis = null;
  }
}

// ---- wiring --------------------------------------------------------------------------------------

ui.cameraToggle.addEventListener("click", () => (camera.running ? stopCamera() : startCamera()));
ui.upload.addEventListener("change", () => {
  const [file] = ui.upload.files;
  if (file) usePhoto(file).finally(() => (ui.upload.value = ""));
});
byId("video-upload").addEventListener("change", (event) => {
  const [file] = event.target.files;
  if (file) useVideo(file).finally(() => (event.target.value = ""));
});
ui.frameRate.addEventListener("change", () => stream.setRate(Number(ui.frameRate.value)));
ui.moodPicker.addEventListener("change", refreshFeed);
for (const radio of document.querySelectorAll('input[name="policy"]')) {
  radio.addEventListener("change", refreshFeed);
}
ui.video.addEventListener("resize", () => {
  if (camera.running) showOnStage(ui.video, { width: ui.video.videoWidth, height: ui.video.videoHeight });
});

stream.setRate(Number(ui.frameRate.value));
const unavailable = cameraUnavailableReason();
if (unavailable) {
  ui.cameraToggle.disabled = true;
  showNotice(unavailable);
}
refreshFeed();
