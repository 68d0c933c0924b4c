// The scoring page: asks this style service's own routes and shows what they answer.
// Every piece of text reaches the DOM through textContent or a text node, never as markup.
"use strict";

const DECIMALS = 4;
const RETRY_INFO_MS = 5000;

const byId = (id) => document.getElementById(id);
const state = { info: null, infoTimer: null, errors: new Map() };

/** An answer in the services' error shape, or a failure to get any answer. */
class ApiError extends Error {
  constructor(where, status, type, message) {
    super(message);
    this.where = where;
    this.status = status;
    this.type = type;
  }
}

function requestHeaders(hasBody) {
  const headers = {};
  if (hasBody) headers["Content-Type"] = "application/json";
  const key = byId("api-key").value.trim();
  if (key) headers.Authorization = `Bearer ${key}`;
  return headers;
}

/** `method path` relative to the page, so a proxy may serve the service under a prefix. */
async function call(method, path, body) {
  const where = `${method} /${path}`;
  let response;
  try {
    response = await fetch(path, {
      method,
      headers: requestHeaders(body !== undefined),
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (err) {
    throw new ApiError(where, 0, "network_error", String(err));
  }
  const text = await response.text();
  let parsed = null;
  try {
    parsed = JSON.parse(text);
  } catch {
    // Not JSON: reported below with the start of the body.
  }
  const error = parsed && parsed.error;
  if (!response.ok && error && typeof error.type === "string") {
    throw new ApiError(where, response.status, error.type, String(error.message));
  }
  if (!response.ok || parsed === null) {
    throw new ApiError(where, response.status, "unexpected_answer", text.slice(0, 300));
  }
  return parsed;
}

function showErrors(source, errors) {
  state.errors.set(source, errors);
  const list = byId("errors");
  list.replaceChildren();
  for (const err of [...state.errors.values()].flat()) {
    const line = document.createElement("p");
    const where = document.createElement("strong");
    where.textContent = err instanceof ApiError ? `${err.where} → ${err.status} ${err.type}` : "error";
    line.append(where, document.createTextNode(`: ${err.message}`));
    list.append(line);
  }
}

function setStatus(stateName, text) {
  const status = byId("status");
  status.dataset.state = stateName;
  status.textContent = text;
}

function formatValue(value) {
  if (value === null || value === undefined) return "—";
  if (typeof value === "number") {
    return Number.isInteger(value) ? String(value) : value.toFixed(DECIMALS);
  }
  return String(value);
}

/** A two-column table of an object's fields, each value cell tagged with its field name. */
function fieldTable(fields, source) {
  const table = document.createElement("table");
  table.dataset.source = source;
  if (source) table.createCaption().textContent = source;
  for (const [name, value] of Object.entries(fields)) {
    const row = table.insertRow();
    const head = document.createElement("th");
    head.textContent = name;
    const cell = row.insertCell();
    cell.dataset.field = name;
    cell.textContent = formatValue(value);
    row.prepend(head);
  }
  return table;
}

async function loadInfo() {
  clearTimeout(state.infoTimer);
  try {
    const info = await call("GET", "info");
    state.info = info;
    byId("service-line").textContent =
      `${info.service} service · model ${info.model} · version ${info.version}`;
    fillProfiles(info);
    // /info says only that it is not ready; /ready says why (still loading, or the failure).
    if (!info.ready) await call("GET", "ready");
    showErrors("info", []);
  } catch (err) {
    showErrors("info", [err]);
    if (err.status === 503 && err.type === "not_ready") {
      state.infoTimer = setTimeout(loadInfo, RETRY_INFO_MS);
    }
  }
}

function fillProfiles(info) {
  const select = byId("profile");
  const chosen = select.value || info.default_profile;
  select.replaceChildren(...info.profiles.map((name) => new Option(name, name)));
  if (info.profiles.includes(chosen)) select.value = chosen;
}

// A diverging orange (unlike the author) to blue (like) scale, readable by the common forms of
// colour blindness (Okabe-Ito hues), light enough for black text over it. Scores are spread by
// their log-odds between 0.01 and 0.99, so 0.925 and 0.987 get visibly different colours.
const LOW = [230, 159, 0];
const MID = [247, 247, 247];
const HIGH = [86, 180, 233];
const LOGIT_SPAN = Math.log(99);

function scoreColour(score) {
  const clipped = Math.min(0.99, Math.max(0.01, score));
  const t = (Math.log(clipped / (1 - clipped)) / LOGIT_SPAN + 1) / 2;
  const [from, to, u] = t < 0.5 ? [LOW, MID, t * 2] : [MID, HIGH, (t - 0.5) * 2];
  const mix = from.map((c, i) => Math.round((c + (to[i] - c) * u) * 0.6 + 255 * 0.4));
  return `rgb(${mix[0]}, ${mix[1]}, ${mix[2]})`;
}

/** The lowest score of the windows covering each character (null where none does). */
function lowestScores(length, windows) {
  const lowest = new Array(length).fill(null);
  for (const window of windows) {
    for (let i = Math.max(0, window.start); i < Math.min(window.end, length); i++) {
      if (lowest[i] === null || window.score < lowest[i]) lowest[i] = window.score;
    }
  }
  return lowest;
}

function renderShadedText(text, windows) {
  // The service counts offsets in code points; JavaScript strings index UTF-16 units.
  const chars = Array.from(text);
  const lowest = lowestScores(chars.length, windows);
  const windowStarts = new Set(windows.map((w) => w.start).filter((s) => s > 0));
  const runs = document.createDocumentFragment();
  let start = 0;
  while (start < chars.length) {
    let end = start + 1;
    while (end < chars.length && lowest[end] === lowest[start] && !windowStarts.has(end)) end++;
    const span = document.createElement("span");
    span.textContent = chars.slice(start, end).join("");
    span.dataset.start = String(start);
    span.dataset.end = String(end);
    const score = lowest[start];
    if (score === null) {
      span.className = "unshaded";
    } else {
      span.className = "shade";
      span.dataset.score = String(score);
      span.title = `score ${score.toFixed(DECIMALS)} · characters ${start}–${end}`;
      span.style.backgroundColor = scoreColour(score);
    }
    if (windowStarts.has(start)) span.classList.add("window-start");
    runs.append(span);
    start = end;
  }
  byId("shaded-text").replaceChildren(runs);
}

function renderCalibration(profile) {
  const scorer = (state.info && state.info.scorer) || {};
  byId("calibration-profile").textContent = profile ?? "reference mode";
  const tables = ["calibration", "classifier"]
    .filter((source) => scorer[source] && scorer[source][profile])
    .map((source) => fieldTable(scorer[source][profile], source));
  byId("calibration").replaceChildren(...tables);
}

function renderStyle(text, answer) {
  const details = answer.details[0];
  byId("style-score").textContent = answer.scores[0].toFixed(DECIMALS);
  byId("style-meta").textContent =
    `${answer.model} · profile ${details.profile ?? "(reference)"} · ` +
    `${details.windows.length} windows · coverage ${formatValue(details.coverage)}`;
  const reasons = byId("style-reasons");
  reasons.replaceChildren(
    ...details.reasons.map((reason) => {
      const item = document.createElement("li");
      item.textContent = reason;
      return item;
    }),
  );
  reasons.hidden = details.reasons.length === 0;
  renderCalibration(details.profile);
  const copy = {
    copied_fraction: details.copied_fraction,
    longest_copied_words: details.longest_copied_words,
    copy_penalty_factor: details.copy_penalty_factor,
    known_ngram_fraction: details.known_ngram_fraction,
    prose_factor: details.prose_factor,
    repeated_bigram_fraction: details.repeated_bigram_fraction,
    repetition_factor: details.repetition_factor,
  };
  byId("copy-guard").replaceChildren(fieldTable(copy, ""));
  renderShadedText(text, details.windows);
}

function peerCard(service) {
  const card = document.createElement("article");
  card.className = "card peer-card";
  card.dataset.service = service;
  const title = document.createElement("h2");
  title.textContent = service;
  card.append(title);
  return card;
}

function paragraph(className, text) {
  const p = document.createElement("p");
  p.className = className;
  p.textContent = text;
  return p;
}

function renderPeers(answer) {
  const cards = [];
  for (const [service, result] of Object.entries(answer.peers)) {
    const card = peerCard(service);
    if (result.error) {
      card.append(paragraph("peer-error", `${result.error.type}: ${result.error.message}`));
    } else {
      const score = paragraph("score", result.scores[0].toFixed(DECIMALS));
      score.id = `${service}-score`;
      card.append(score, paragraph("muted", result.model));
    }
    cards.push(card);
  }
  for (const [service, setting] of Object.entries(answer.not_configured)) {
    const card = peerCard(service);
    card.classList.add("not-configured");
    card.append(paragraph("muted", `not configured: set ${setting}`));
    cards.push(card);
  }
  byId("score-cards").querySelectorAll(".peer-card").forEach((card) => card.remove());
  byId("score-cards").append(...cards);
}

async function scoreText(event) {
  event.preventDefault();
  const button = byId("score-button");
  button.disabled = true;
  setStatus("scoring", "Scoring…");
  try {
    await scoreAndShow(byId("text").value);
  } catch (err) {
    showErrors("score", [err]);
    setStatus("error", "The page failed to show the answer");
  } finally {
    button.disabled = false;
  }
}

async function scoreAndShow(text) {
  const started = performance.now();
  if (!state.info || !state.info.ready) await loadInfo();
  const body = { texts: [text], details: true };
  const profile = byId("profile").value;
  if (profile) body.profile = profile;
  const [style, peers] = await Promise.allSettled([
    call("POST", "score", body),
    call("POST", "page/peers", { texts: [text] }),
  ]);
  const errors = [style, peers].filter((r) => r.status === "rejected").map((r) => r.reason);
  showErrors("score", errors);
  byId("style-card").hidden = byId("style-results").hidden = style.status !== "fulfilled";
  if (style.status === "fulfilled") renderStyle(text, style.value);
  if (peers.status === "fulfilled") renderPeers(peers.value);
  else byId("score-cards").querySelectorAll(".peer-card").forEach((card) => card.remove());
  byId("results").hidden = errors.length === 2;
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  if (errors.length) {
    setStatus("error", `Refused or failed after ${seconds} s: see the error above`);
  } else {
    setStatus("done", `Answered in ${seconds} s`);
  }
}

async function readFile() {
  const file = byId("file").files[0];
  if (file) byId("text").value = await file.text();
}

byId("score-form").addEventListener("submit", scoreText);
byId("file").addEventListener("change", readFile);
byId("api-key").addEventListener("change", loadInfo);
loadInfo();
