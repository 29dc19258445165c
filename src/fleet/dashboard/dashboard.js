// otakit fleet dashboard: polls /rest/v1/summary and /rest/v1/summary/devices with the
// admin token, which it keeps in this tab's sessionStorage (never in the URL or a
// cookie). Everything shown is text: device input never becomes markup.
"use strict";

const STATES = [
  ["idle", "no deployment"], ["waiting", "waiting"], ["downloading", "downloading"],
  ["installed", "installed"], ["upToDate", "up to date"], ["failed", "failed"],
  ["rolledBack", "rolled back"], ["canceling", "canceling"], ["canceled", "canceled"],
];
const LABEL = Object.fromEntries(STATES);
const POLL_MS = 2000;
const KEY = "otakit-fleet-token";
const $ = (id) => document.getElementById(id);

let token = sessionStorage.getItem(KEY);
let timer = null;
let polling = false;
let serverTime = 0;

class AuthError extends Error {}

// el("td", {className: "n"}, "text", child...)
function el(tag, props, ...kids) {
  const e = document.createElement(tag);
  Object.assign(e, props || {});
  for (const k of kids) {
    e.append(k instanceof Node ? k : document.createTextNode(String(k)));
  }
  return e;
}

async function api(path) {
  const r = await fetch(path, { headers: { Authorization: "Bearer " + token }, cache: "no-store" });
  if (r.status === 401) {
    throw new AuthError("the server refused the token");
  }
  const body = await r.json().catch(() => ({}));
  if (!r.ok) {
    throw new Error(`${path}: HTTP ${r.status}: ${body.message || ""}`);
  }
  return body;
}

function ago(t) {
  if (t === null || t === undefined) {
    return "never";
  }
  const s = Math.max(0, serverTime - t);
  if (s < 120) return `${s} s ago`;
  if (s < 7200) return `${Math.round(s / 60)} min ago`;
  if (s < 172800) return `${Math.round(s / 3600)} h ago`;
  return new Date(t * 1000).toISOString().slice(0, 10);
}

function stateList(states, keys) {
  const ul = el("ul", { className: "states" });
  for (const [k, label] of STATES) {
    if (!(k in states) || (keys && !keys.includes(k))) continue;
    const li = el("li", { className: "s-" + k }, el("span", { className: "n" }, states[k]), label);
    li.dataset.state = k;
    ul.append(li);
  }
  return ul;
}

function bar(states, total) {
  const b = el("div", { className: "bar" });
  for (const [k, label] of STATES) {
    const n = states[k] || 0;
    if (n === 0 || total === 0) continue;
    const s = el("span", { className: "s-" + k, title: `${label}: ${n}` });
    s.style.width = (100 * n / total) + "%";
    s.dataset.state = k;
    s.dataset.n = n;
    b.append(s);
  }
  return b;
}

function cell(k, v, numeric) {
  const td = el("td", numeric ? { className: "n" } : {}, v);
  td.dataset.k = k;
  return td;
}

function renderRollout(r) {
  const div = el("div", { className: "rollout" });
  div.dataset.rollout = r.id;
  div.append(el("h3", {}, `#${r.id} ${r.name} `,
    el("span", { className: "muted" }, `${r.project} ${r.version} · ${r.devices} devices · `),
    el("span", { className: "badge status" }, r.status)));
  div.append(bar(r.states, r.devices));
  div.append(stateList(r.states));
  const head = el("tr", {}, el("th", {}, "group"), el("th", {}, "status"), el("th", {}, "progress"));
  for (const h of ["devices", "finished", "error", "canceled", "open"]) {
    head.append(el("th", { className: "n" }, h));
  }
  const body = el("tbody");
  for (const g of r.groups) {
    const tr = el("tr", {}, cell("index", g.index + 1), cell("status", g.status),
      el("td", {}, bar(g.states, g.devices)));
    tr.dataset.group = g.index;
    for (const k of ["devices", "finished", "error", "canceled", "open"]) {
      tr.append(cell(k, g[k], true));
    }
    body.append(tr);
  }
  div.append(el("table", {}, el("thead", {}, head), body));
  div.append(el("p", { className: "muted" },
    `next group at ${r.successThreshold} % finished; pauses at ${r.errorThreshold} % failed`));
  return div;
}

function renderSummary(s) {
  serverTime = s.time;
  $("devices-count").textContent = `(${s.devices.total})`;
  $("fleet-states").replaceWith(Object.assign(stateList(s.devices.states), { id: "fleet-states" }));
  $("rollouts").replaceChildren(...s.rollouts.map(renderRollout));
  $("no-rollouts").hidden = s.rollouts.length > 0;
  $("failures-count").textContent =
    `(${s.failures.total}${s.failures.total > s.failures.recent.length ? ", the newest shown" : ""})`;
  $("failures").tBodies[0].replaceChildren(...s.failures.recent.map((f) => {
    const tr = el("tr", {}, cell("controllerId", f.controllerId), cell("rollout", f.rollout ?? "–"),
      cell("action", f.action), cell("time", ago(f.time)),
      el("td", {}, el("span", { className: "badge s-" + f.state }, LABEL[f.state])),
      cell("details", f.details.join("; ")));
    tr.dataset.device = f.controllerId;
    return tr;
  }));
}

function devicesPath() {
  const q = new URLSearchParams({ q: $("search").value.trim(), state: $("state-filter").value, limit: 50 });
  return "rest/v1/summary/devices?" + q;
}

function renderDevices(d) {
  $("devices-shown").textContent = d.total > d.devices.length
    ? `first ${d.devices.length} of ${d.total}` : `${d.total} shown`;
  $("devices").tBodies[0].replaceChildren(...d.devices.map((v) => {
    const tr = el("tr", {}, cell("controllerId", v.controllerId), cell("group", v.group),
      cell("tags", v.tags), cell("version", v.version ?? "–"),
      el("td", {}, el("span", { className: "badge s-" + v.state }, LABEL[v.state] || v.state)),
      cell("rollout", v.rollout ?? "–"), cell("lastPoll", ago(v.lastPoll)));
    tr.dataset.device = v.controllerId;
    tr.dataset.state = v.state;
    return tr;
  }));
}

function showError(e) {
  if (e instanceof AuthError) {
    logout(e.message);
  } else {
    $("status").textContent = "error: " + e.message;
  }
}

async function refreshDevices() {
  try {
    renderDevices(await api(devicesPath()));
  } catch (e) {
    showError(e);
  }
}

async function poll() {
  clearTimeout(timer);
  timer = null;
  if (!token || polling) return;
  polling = true;
  try {
    const [s, d] = await Promise.all([api("rest/v1/summary"), api(devicesPath())]);
    renderSummary(s);
    renderDevices(d);
    $("status").textContent = "updated " + new Date().toLocaleTimeString();
    $("status").dataset.updated = s.time;
  } catch (e) {
    showError(e);
  }
  polling = false;
  if (token && !document.hidden) {
    timer = setTimeout(poll, POLL_MS);
  }
}

function logout(why) {
  token = null;
  sessionStorage.removeItem(KEY);
  clearTimeout(timer);
  $("main").hidden = true;
  $("logout").hidden = true;
  $("login").hidden = false;
  $("login-error").textContent = why || "";
  $("status").textContent = "";
  $("token").focus();
}

function start() {
  $("login").hidden = true;
  $("main").hidden = false;
  $("logout").hidden = false;
  poll();
}

document.addEventListener("DOMContentLoaded", () => {
  for (const [k, label] of STATES) {
    $("state-filter").append(el("option", { value: k }, label));
  }
  $("login").addEventListener("submit", (ev) => {
    ev.preventDefault();
    token = $("token").value.trim();
    $("token").value = "";
    sessionStorage.setItem(KEY, token);
    $("login-error").textContent = "";
    start();
  });
  $("logout").addEventListener("click", () => logout(""));
  let debounce = null;
  const refilter = () => {
    clearTimeout(debounce);
    debounce = setTimeout(refreshDevices, 200);
  };
  $("search").addEventListener("input", refilter);
  $("state-filter").addEventListener("change", refilter);
  document.addEventListener("visibilitychange", () => {
    if (!document.hidden && token && timer === null) poll();
  });
  if (token) {
    start();
  } else {
    logout("");
  }
});
