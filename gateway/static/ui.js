// The dashboard: a small static app over the gateway's own JSON API (no build step, no
// third-party code). Every string from the API reaches the page through textContent.
"use strict";

const REFRESH_MS = 2000; // at most one refresh of the open page every 2 s
const STATUSES = ["all", "queued", "running", "scheduled", "succeeded", "failed", "dead", "cancelled"];
const FINAL = new Set(["succeeded", "failed", "dead", "cancelled", "expired"]);
const state = { csrf: sessionStorage.getItem("streamfn.csrf") || "", drafts: {}, timer: null };

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (key === "text") node.textContent = value;
    else if (key === "class") node.className = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (value !== false && value !== null && value !== undefined) node.setAttribute(key, value);
  }
  for (const child of children.flat()) {
    if (child !== null && child !== undefined && child !== false) {
      node.append(typeof child === "string" || typeof child === "number" ? String(child) : child);
    }
  }
  return node;
}

const when = (ms) => (ms ? new Date(ms).toISOString().replace("T", " ").slice(0, 19) : "-");
const badge = (s) => el("span", { class: "badge " + s, text: s });
const json = (v) => el("pre", { text: JSON.stringify(v, null, 2) });
const link = (href, text) => el("a", { href, text });
const enc = encodeURIComponent;

class Unauthorized extends Error {}

async function api(method, path, body) {
  const headers = { Accept: "application/json" };
  if (method !== "GET" && state.csrf) headers["X-CSRF-Token"] = state.csrf;
  const init = { method, headers, credentials: "same-origin" };
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = typeof body === "string" ? body : JSON.stringify(body);
  }
  const response = await fetch(path, init);
  if (response.status === 401) throw new Unauthorized();
  const text = await response.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch (e) { data = text; }
  return { status: response.status, ok: response.ok, data };
}

function problem(reply) {
  const error = reply.data && reply.data.error;
  return el("p", { class: "error", text: error ? error.code + ": " + error.message : "HTTP " + reply.status });
}

async function act(method, path, body, confirmText) {
  if (confirmText && !window.confirm(confirmText)) return;
  const reply = await api(method, path, body);
  status(reply.ok ? method + " " + path + ": " + reply.status : "refused: " + JSON.stringify(reply.data));
  await render();
  return reply;
}

function status(text) { document.getElementById("status").textContent = text; }

// ---- views ----------------------------------------------------------------------------

async function overview() {
  const reply = await api("GET", "/functions");
  if (!reply.ok) return [problem(reply)];
  const rows = reply.data.functions.map((f) => el("tr", { "data-function": f.name },
    el("td", {}, link("#/functions/" + enc(f.name), f.name)),
    el("td", {}, badge(f.paused ? "paused" : f.state)),
    el("td", { class: "num", text: f.runners }),
    el("td", { class: "num", text: f.queued }),
    el("td", { class: "num", text: f.running }),
    el("td", { class: "num", text: f.scheduled }),
    el("td", { class: "num", text: f.oldest_queued_age_s + " s" }),
    el("td", {}, el("button", { class: "quiet", onclick: () => { location.hash = "#/functions/" + enc(f.name) + "/run"; }, text: "Run" }))));
  const removed = (reply.data.removed || []).map((f) => el("li", {}, f.name + " (" + (f.reason || "removed") + ")"));
  const errors = Object.entries(reply.data.errors || {}).map(([file, e]) => el("li", { class: "error" }, file + ": " + e));
  return [
    el("h1", { text: "Functions" }),
    el("table", { id: "functions" },
      el("thead", {}, el("tr", {}, ...["function", "state", "runners", "queued", "running", "scheduled", "oldest queued", ""]
        .map((h, i) => el("th", { class: i >= 2 && i <= 6 ? "num" : "", text: h })))),
      el("tbody", {}, rows)),
    removed.length ? [el("h2", { text: "Removed" }), el("ul", {}, removed)] : null,
    errors.length ? [el("h2", { text: "Load errors" }), el("ul", {}, errors)] : null,
  ];
}

function runForm(fn) {
  const area = el("textarea", { rows: "4", id: "run-payload", placeholder: '{"hello": "world"}' });
  area.value = state.drafts[fn] || "";
  area.addEventListener("input", () => { state.drafts[fn] = area.value; });
  const out = el("div", { id: "run-result" });
  const form = el("form", { id: "run-form" }, area, el("button", { type: "submit", text: "Run now" }), out);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const reply = await api("POST", "/invoke/" + enc(fn) + "?wait=10", area.value || "null");
    out.replaceChildren(reply.data && reply.data.id
      ? el("p", {}, badge(reply.data.status), " ", link("#/invocations/" + enc(reply.data.id), reply.data.id))
      : problem(reply));
    if (reply.data && reply.data.result !== undefined) out.append(json(reply.data.result));
  });
  return form;
}

async function invocationsTable(fn, status, cursor) {
  let path = "/invocations?function=" + enc(fn) + "&limit=50";
  if (status !== "all") path += "&status=" + enc(status);
  if (cursor) path += "&cursor=" + enc(cursor);
  const reply = await api("GET", path);
  if (!reply.ok) return [problem(reply)];
  const rows = reply.data.invocations.map((i) => el("tr", { "data-invocation": i.id },
    el("td", {}, link("#/invocations/" + enc(i.id), i.id)),
    el("td", {}, badge(i.status)),
    el("td", { class: "num", text: i.attempt }),
    el("td", { text: when(i.created_at) }),
    el("td", { class: "num", text: i.duration_ms === undefined ? "-" : i.duration_ms + " ms" }),
    el("td", { text: i.error ? i.error.type + ": " + (i.error.message || "") : "" })));
  const more = reply.data.next_cursor
    ? el("p", {}, link("#/functions/" + enc(fn) + "?status=" + enc(status) + "&cursor=" + enc(reply.data.next_cursor), "Older…"))
    : null;
  return [el("table", { id: "invocations" },
    el("thead", {}, el("tr", {}, ...["id", "status", "attempt", "created", "duration", "error"].map((h) => el("th", { text: h })))),
    el("tbody", {}, rows)), more];
}

async function deadLetters(fn) {
  const reply = await api("GET", "/dead-letters?function=" + enc(fn));
  if (!reply.ok) return [problem(reply)];
  const letters = reply.data.dead_letters;
  if (!letters.length) return [el("p", { class: "muted", text: "No dead letters." })];
  const replayAll = async () => {
    if (!window.confirm("Replay " + letters.length + " dead letters of " + fn + "?")) return;
    for (const d of letters) await api("POST", "/dead-letters/" + enc(d.id) + "/replay");
    await render();
  };
  return [
    el("p", {}, el("button", { class: "quiet", onclick: replayAll, text: "Replay all (" + letters.length + ")" })),
    el("table", { id: "dead-letters" },
      el("thead", {}, el("tr", {}, ...["id", "error", "attempts", "dead at", ""].map((h) => el("th", { text: h })))),
      el("tbody", {}, letters.map((d) => el("tr", { "data-dead": d.id },
        el("td", {}, link("#/invocations/" + enc(d.id), d.id)),
        el("td", { text: d.error ? d.error.type + ": " + (d.error.message || "") : "" }),
        el("td", { class: "num", text: d.attempts }),
        el("td", { text: when(d.dead_at) }),
        el("td", {},
          el("button", { class: "quiet", onclick: () => act("POST", "/dead-letters/" + enc(d.id) + "/replay"), text: "Replay" }), " ",
          el("button", { class: "danger", onclick: () => act("DELETE", "/dead-letters/" + enc(d.id), undefined, "Delete " + d.id + " for good?"), text: "Delete" }))))))];
}

async function functionView(fn, query) {
  const status = STATUSES.includes(query.get("status")) ? query.get("status") : "all";
  const [functions, detail] = await Promise.all([api("GET", "/functions"), api("GET", "/functions/" + enc(fn))]);
  const entry = detail.ok ? detail.data : (functions.data.functions || []).find((f) => f.name === fn);
  if (!entry) return [el("h1", { text: fn }), el("p", { class: "error", text: "No deployed function named " + fn })];
  const paused = Boolean(entry.paused);
  const tabs = el("div", { class: "tabs" }, STATUSES.map((s) =>
    el("a", { href: "#/functions/" + enc(fn) + "?status=" + s, class: s === status ? "on" : "", text: s })));
  const schedules = await api("GET", "/schedules?function=" + enc(fn));
  // GET /functions/{fn} nests the policy and lists the runners; GET /functions is flat.
  const policy = entry.policy || Object.fromEntries(Object.entries(entry).filter(([k]) => ["timeout", "retries", "backoff", "backoff_max", "partitions", "kind", "isolate"].includes(k)));
  const counts = { ...entry, runners: Array.isArray(entry.runners) ? entry.runners.length : entry.runners };
  return [
    el("h1", {}, fn, " ", badge(paused ? "paused" : entry.state)),
    el("div", { class: "grid" },
      el("div", { class: "card" }, el("dl", {},
        ...["runners", "queued", "running", "orphaned", "scheduled"].filter((k) => counts[k] !== undefined)
          .flatMap((k) => [el("dt", { text: k }), el("dd", { "data-count": k, text: counts[k] })]))),
      el("div", { class: "card" }, el("strong", { text: "Policy" }), json(policy)),
      el("div", { class: "card" },
        el("button", { id: paused ? "resume" : "pause", class: "quiet",
          onclick: () => act("POST", "/functions/" + enc(fn) + (paused ? "/resume" : "/pause")),
          text: paused ? "Resume" : "Pause" }),
        el("p", { class: "muted", text: paused ? "Paused: invocations are accepted and wait." : "Runners take its work." }))),
    el("h2", { text: "Run now" }), runForm(fn),
    el("h2", { text: "Invocations" }), tabs, await invocationsTable(fn, status, query.get("cursor")),
    el("h2", { text: "Dead letters" }), await deadLetters(fn),
    el("h2", { text: "Schedules" }),
    schedules.ok ? schedulesTable(schedules.data.schedules) : problem(schedules),
  ];
}

async function invocationView(id) {
  const reply = await api("GET", "/invocations/" + enc(id));
  if (!reply.ok) return [el("h1", { text: id }), problem(reply)];
  const inv = reply.data;
  const logs = await api("GET", "/invocations/" + enc(id) + "/logs");
  const buttons = [];
  if (!FINAL.has(inv.status)) buttons.push(el("button", { id: "cancel", class: "danger", onclick: () => act("DELETE", "/invocations/" + enc(id)), text: "Cancel" }));
  if (inv.status === "dead") {
    buttons.push(el("button", { id: "replay", onclick: () => act("POST", "/dead-letters/" + enc(id) + "/replay"), text: "Replay" }));
  }
  const timeline = [["created", inv.created_at], ["due", inv.due_at], ["queued", inv.queued_at], ["finished", inv.finished_at]]
    .filter(([, t]) => t).map(([name, t]) => el("li", {}, el("span", { class: "mono", text: when(t) }), " " + name));
  const lines = logs.ok && logs.data && Array.isArray(logs.data.lines) ? logs.data.lines : null;
  return [
    el("h1", {}, el("span", { class: "mono", text: id }), " ", badge(inv.status)),
    el("p", {}, link("#/functions/" + enc(inv.function), "← " + inv.function), " ", buttons),
    el("div", { class: "grid" },
      el("div", { class: "card" }, el("dl", {}, ...[["attempt", inv.attempt], ["deliveries", inv.deliveries], ["duration", inv.duration_ms === undefined ? undefined : inv.duration_ms + " ms"], ["schedule", inv.schedule], ["tags", inv.tags && inv.tags.join(", ")]]
        .filter(([, v]) => v !== undefined && v !== null).flatMap(([k, v]) => [el("dt", { text: k }), el("dd", { text: String(v) })]))),
      el("div", { class: "card" }, el("strong", { text: "Timeline" }), el("ul", { class: "timeline" }, timeline))),
    inv.payload !== undefined ? [el("h2", { text: "Payload" }), json(inv.payload)] : null,
    inv.result !== undefined ? [el("h2", { text: "Result" }), json(inv.result)] : null,
    inv.error !== undefined ? [el("h2", { text: "Error" }), json(inv.error)] : null,
    el("h2", { text: "Logs" }),
    lines && lines.length
      ? el("pre", { id: "logs", text: lines.map((l) => when(l.ts) + " " + (l.level || l.stream || "") + " " + l.message).join("\n") })
      : el("p", { class: "muted", text: "No logs." }),
  ];
}

function schedulesTable(list) {
  if (!list.length) return el("p", { class: "muted", text: "No schedules." });
  return el("table", { id: "schedules" },
    el("thead", {}, el("tr", {}, ...["id", "function", "when", "state", "next fire", "last fire", "fires", ""].map((h) => el("th", { text: h })))),
    el("tbody", {}, list.map((s) => el("tr", { "data-schedule": s.id },
      el("td", { class: "mono", text: s.id }),
      el("td", {}, link("#/functions/" + enc(s.function), s.function)),
      el("td", { class: "mono", text: s.cron ? s.cron + " " + s.timezone : "every " + s.every }),
      el("td", {}, badge(s.state)),
      el("td", { text: when(s.next_fire_at) }),
      el("td", {}, s.last_invocation ? link("#/invocations/" + enc(s.last_invocation), when(s.last_fire_at)) : "-"),
      el("td", { class: "num", text: s.fire_count }),
      el("td", {},
        el("button", { class: "quiet", onclick: () => act("POST", "/schedules/" + enc(s.id) + (s.paused ? "/resume" : "/pause")), text: s.paused ? "Resume" : "Pause" }), " ",
        el("button", { class: "danger", onclick: () => act("DELETE", "/schedules/" + enc(s.id), undefined, "Delete schedule " + s.id + "?"), text: "Delete" }))))));
}

async function schedulesView() {
  const reply = await api("GET", "/schedules");
  const fields = { id: el("input", { name: "id", placeholder: "id (optional)" }), function: el("input", { name: "function", placeholder: "function", required: "" }),
    every: el("input", { name: "every", placeholder: "every (30s) or…" }), cron: el("input", { name: "cron", placeholder: "cron (*/5 * * * * *)" }),
    payload: el("input", { name: "payload", placeholder: "payload JSON" }) };
  const out = el("div");
  const form = el("form", { id: "schedule-form", class: "inline" }, Object.values(fields), el("button", { type: "submit", text: "Save" }), out);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = { function: fields.function.value };
    for (const k of ["id", "every", "cron"]) if (fields[k].value) body[k] = fields[k].value;
    if (fields.payload.value) {
      try { body.payload = JSON.parse(fields.payload.value); } catch (e) { out.replaceChildren(el("p", { class: "error", text: "payload: " + e })); return; }
    }
    const saved = await api("POST", "/schedules", body);
    if (!saved.ok) { out.replaceChildren(problem(saved)); return; }
    for (const input of Object.values(fields)) input.value = "";
    await render();
  });
  return [el("h1", { text: "Schedules" }), form, reply.ok ? schedulesTable(reply.data.schedules) : problem(reply)];
}

async function runnersView() {
  const reply = await api("GET", "/runners");
  if (!reply.ok) return [el("h1", { text: "Runners" }), problem(reply)];
  const runners = reply.data.runners || [];
  const orphaned = (reply.data.orphaned || []).map((o) => el("li", { "data-orphaned": o.function },
    link("#/functions/" + enc(o.function), o.function), ": " + o.entries + " orphaned (their runner is gone; reclaimed after the visibility timeout)"));
  return [el("h1", { text: "Runners" }), el("table", { id: "runners" },
    el("thead", {}, el("tr", {}, ...["id", "host", "pid", "version", "started", "heartbeat", "in flight", "functions", "paused seen", "oldest lease"].map((h) => el("th", { text: h })))),
    el("tbody", {}, runners.map((r) => el("tr", { "data-runner": r.id },
      el("td", { class: "mono", text: r.id }),
      el("td", { text: r.host }), el("td", { class: "num", text: r.pid }), el("td", { text: r.version }),
      el("td", { text: when(r.started_at) }), el("td", { text: r.heartbeat_age_s + " s ago" }),
      el("td", { class: "num", text: r.in_flight + " / " + r.concurrency }),
      el("td", { text: r.functions.length }),
      el("td", { text: r.paused.join(", ") || "-" }),
      el("td", {}, r.oldest_lease ? [link("#/invocations/" + enc(r.oldest_lease.id), r.oldest_lease.id), " " + r.oldest_lease.age_s + " s"] : "-"))))),
    el("h2", { text: "Orphaned work" }),
    orphaned.length ? el("ul", {}, orphaned) : el("p", { class: "muted", text: "None: every pending entry is held by a live runner." })];
}

function loginView(retry) {
  const token = el("input", { type: "password", id: "login-token", placeholder: "token", autocomplete: "current-password" });
  const out = el("div");
  const form = el("form", { id: "login-form", class: "inline" }, token, el("button", { type: "submit", text: "Log in" }), out);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const reply = await fetch("/login", { method: "POST", credentials: "same-origin", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ token: token.value }) });
    const data = await reply.json().catch(() => null);
    if (!reply.ok) { out.replaceChildren(el("p", { class: "error", text: data && data.error ? data.error.message : "HTTP " + reply.status })); return; }
    state.csrf = data.csrf || "";
    sessionStorage.setItem("streamfn.csrf", state.csrf);
    retry();
  });
  return [el("h1", { text: "Log in" }), el("p", { class: "muted", text: "This gateway needs a token (see docs/auth.md)." }), form];
}

// ---- routing --------------------------------------------------------------------------

function route() {
  const [path, qs] = location.hash.replace(/^#/, "").split("?");
  const parts = (path || "/").split("/").filter(Boolean).map(decodeURIComponent);
  const query = new URLSearchParams(qs || "");
  if (parts[0] === "functions" && parts[1]) return () => functionView(parts[1], query);
  if (parts[0] === "invocations" && parts[1]) return () => invocationView(parts[1]);
  if (parts[0] === "schedules") return schedulesView;
  if (parts[0] === "runners") return runnersView;
  return overview;
}

async function render() {
  const view = document.getElementById("view");
  try {
    const content = await route()();
    view.replaceChildren(...[content].flat(3).filter(Boolean));
    status("updated " + new Date().toLocaleTimeString());
    if (location.hash.endsWith("/run")) document.getElementById("run-payload")?.focus();
  } catch (error) {
    if (error instanceof Unauthorized) view.replaceChildren(...loginView(render));
    else status("could not refresh: " + error);
  }
  document.body.dataset.ready = "1";
}

function busy() {
  const active = document.activeElement;
  return active && ["INPUT", "TEXTAREA", "SELECT"].includes(active.tagName);
}

window.addEventListener("hashchange", render);
state.timer = setInterval(() => { if (!busy() && !document.hidden) render(); }, REFRESH_MS);
render();
