// The feed panel: stories ranked by /feed for a mood, updated in place so nothing flickers.
//
// Story text comes from other people's feeds and is hostile: it only ever reaches the page through
// textContent, links must be http(s), and images must be https (the page's CSP allows nothing else).

import { fetchJson } from "./http.js";

const FEED_LIMIT = 20;
const MOVE_ANIMATION_MS = 250;
const relativeTime = new Intl.RelativeTimeFormat(undefined, { numeric: "auto" });
const AGE_UNITS = [
  ["year", 365 * 24 * 3600],
  ["month", 30 * 24 * 3600],
  ["week", 7 * 24 * 3600],
  ["day", 24 * 3600],
  ["hour", 3600],
  ["minute", 60],
];

/** "3 hours ago" for an ISO time, or "" when there is none or it does not parse. */
function age(isoTime) {
  const seconds = (Date.parse(isoTime) - Date.now()) / 1000;
  if (!Number.isFinite(seconds)) return "";
  for (const [unit, unitSeconds] of AGE_UNITS) {
    if (Math.abs(seconds) >= unitSeconds) return relativeTime.format(Math.round(seconds / unitSeconds), unit);
  }
  return relativeTime.format(0, "minute");
}

function safeUrl(text, protocols) {
  try {
    const url = new URL(text);
    return protocols.includes(url.protocol) ? url.href : null;
  } catch {
    return null;
  }
}

function storyKey(item) {
  return String(item.id);
}

function setText(element, text) {
  if (element.textContent !== text) element.textContent = text;
}

function element(tag, className) {
  const node = document.createElement(tag);
  node.className = className;
  return node;
}

/** One story's <article>: built once, then updated field by field. */
function buildStory(item) {
  const article = element("article", "story");
  article.dataset.key = storyKey(item);
  const image = element("img", "story-image");
  image.alt = "";
  image.loading = "lazy";
  image.referrerPolicy = "no-referrer";
  const body = element("div", "story-body");
  const title = element("h3", "story-title");
  const meta = element("p", "story-meta");
  const source = element("span", "story-source");
  const time = element("time", "story-age");
  meta.append(source, time);
  const summary = element("p", "story-summary");
  const reason = element("p", "story-reason");
  body.append(title, meta, summary, reason);
  article.append(image, body);
  updateStory(article, item);
  return article;
}

function updateStory(article, item) {
  const title = article.querySelector(".story-title");
  const link = safeUrl(item.link, ["http:", "https:"]);
  const anchor = title.querySelector("a");
  if (link) {
    const target = anchor ?? document.createElement("a");
    target.target = "_blank";
    target.rel = "noopener noreferrer";
    if (target.href !== link) target.href = link;
    setText(target, item.title ?? "");
    if (!anchor) title.replaceChildren(target);
  } else {
    setText(title, item.title ?? "");
  }

  setText(article.querySelector(".story-source"), item.source ?? "");
  const time = article.querySelector(".story-age");
  time.dateTime = item.published ?? "";
  setText(time, item.published ? age(item.published) : "");
  setText(article.querySelector(".story-summary"), item.summary ?? "");
  setText(article.querySelector(".story-reason"), item.reason ?? "");

  const image = article.querySelector(".story-image");
  const imageUrl = item.image ? safeUrl(item.image, ["https:"]) : null;
  if (imageUrl && image.src !== imageUrl) image.src = imageUrl;
  image.hidden = !imageUrl;
  article.classList.toggle("has-image", Boolean(imageUrl));
}

/** What the viewer should know about where these stories come from, if anything. */
function feedNote(body) {
  if (!body.items?.length) return "No stories yet: the news feeds are still being fetched.";
  if (body.samples && body.feeds_unreachable) {
    return "Feeds unreachable: showing the stories bundled with moodfeed. They are tried again in the background.";
  }
  if (body.samples) return "These are sample stories bundled with moodfeed, shown until the news feeds are fetched.";
  return "";
}

/** The query that asks /feed for a mood: a picked emotion, a probability vector, or nothing yet. */
function feedQuery({ policy, emotion, scores }) {
  const query = new URLSearchParams({ policy, limit: String(FEED_LIMIT) });
  if (emotion) {
    query.set("emotion", emotion);
  } else if (scores) {
    const pairs = Object.entries(scores).map(([label, p]) => `${label}:${p.toFixed(3)}`);
    query.set("scores", pairs.join(","));
  } else {
    query.set("emotion", "neutral");
  }
  return query;
}

export class Feed {
  constructor(container, status) {
    this.container = container;
    this.status = status;
    this.pending = null;
    this.reduceMotion = matchMedia("(prefers-reduced-motion: reduce)");
  }

  /** Fetch the feed for a mood and show it; a newer request cancels an older one. */
  async load(mood) {
    this.pending?.abort();
    const pending = new AbortController();
    this.pending = pending;
    this.container.setAttribute("aria-busy", "true");
    try {
      const body = await fetchJson(`/feed?${feedQuery(mood)}`, { signal: pending.signal });
      this.render(body.items ?? []);
      setText(this.status, feedNote(body));
      return body;
    } catch (error) {
      if (error.name === "AbortError") return null;
      setText(this.status, `The feed could not be loaded: ${error.message}. It will try again shortly.`);
      return null;
    } finally {
      if (this.pending === pending) {
        this.pending = null;
        this.container.setAttribute("aria-busy", "false");
      }
    }
  }

  /** Keyed update: stories already shown keep their element and only move; new ones are inserted. */
  render(items) {
    const before = this.positions();
    const existing = new Map([...this.container.children].map((article) => [article.dataset.key, article]));
    items.forEach((item, index) => {
      const key = storyKey(item);
      let article = existing.get(key);
      if (article) {
        updateStory(article, item);
        existing.delete(key);
      } else {
        article = buildStory(item);
      }
      const current = this.container.children[index] ?? null;
      if (current !== article) this.container.insertBefore(article, current);
    });
    for (const stale of existing.values()) stale.remove();
    this.animateMoves(before);
  }

  positions() {
    return new Map([...this.container.children].map((article) => [article, article.getBoundingClientRect().top]));
  }

  /** Slide moved stories from where they were, so a reorder reads as movement rather than a redraw. */
  animateMoves(before) {
    if (this.reduceMotion.matches) return;
    for (const article of this.container.children) {
      const oldTop = before.get(article);
      const shift = oldTop === undefined ? 0 : oldTop - article.getBoundingClientRect().top;
      if (oldTop === undefined) {
        article.animate([{ opacity: 0 }, { opacity: 1 }], { duration: MOVE_ANIMATION_MS, easing: "ease-out" });
      } else if (Math.abs(shift) > 1) {
        article.animate([{ transform: `translateY(${shift}px)` }, { transform: "none" }], {
          duration: MOVE_ANIMATION_MS,
          easing: "ease-out",
        });
      }
    }
  }
}
