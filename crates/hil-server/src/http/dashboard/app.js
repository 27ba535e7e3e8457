// The HIL dashboard: a thin client of the /v0 API. Credentials live in this page's memory
// and, so that a reload keeps the session, in sessionStorage (gone when the tab closes);
// never in localStorage or a cookie. Every API error is shown, none is swallowed.
"use strict";

const state = {
  auth: null, // the credentials header: { name: "Authorization" or "X-Auth-Token", value }
  me: null, // GET /v0/whoami
  networks: [], // the selected project's networks
  seen: "", // the project's actions and their statuses, as last read
  actionsTimer: null, // the next read of the project's actions
};

// The project's actions are read again this often while one is pending, and otherwise
// every IDLE_POLL_MS (so that actions started elsewhere, by the CLI say, show up too).
const POLL_MS = 500;
const IDLE_POLL_MS = 5000;
const $ = (id) => document.getElementById(id);

// ---- building the page without innerHTML (labels come from users) ----

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") e.className = v;
    else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v);
  }
  for (const c of children) {
    if (c !== null && c !== undefined) e.append(c instanceof Node ? c : String(c));
  }
  return e;
}

// ---- errors ----

class ApiError extends Error {
  constructor(status, type, msg) {
    super(msg);
    this.status = status;
    this.type = type;
  }
  toString() {
    return `${this.type} (HTTP ${this.status}): ${this.message}`;
  }
}

function showError(err) {
  const box = $("error");
  box.textContent = String(err);
  box.hidden = false;
}

function clearError() {
  $("error").hidden = true;
  $("error").textContent = "";
}

// ---- the API ----

async function api(method, path, body) {
  const headers = { [state.auth.name]: state.auth.value };
  const init = { method, headers, cache: "no-store" };
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let resp;
  try {
    resp = await fetch("/v0" + path, init);
  } catch (e) {
    throw new ApiError(0, "NetworkError", `cannot reach the server: ${e.message}`);
  }
  const text = await resp.text();
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch (_) {
      data = text;
    }
  }
  if (!resp.ok) {
    const type = (data && data.type) || "Error";
    const msg = (data && data.msg) || (typeof data === "string" ? data : resp.statusText);
    throw new ApiError(resp.status, type, msg);
  }
  return data;
}

const enc = encodeURIComponent;

// ---- signing in and out ----

// With HIL's own users (HTTP Basic), or with a Keystone token.
async function signIn(auth) {
  state.auth = auth;
  try {
    state.me = await api("GET", "/whoami");
  } catch (e) {
    state.auth = null;
    throw e;
  }
  sessionStorage.setItem("hil-auth", JSON.stringify(state.auth));
  showApp();
}

function basicAuth(user, password) {
  return { name: "Authorization", value: "Basic " + btoa(unescape(enc(`${user}:${password}`))) };
}

// The API's own description says how it authenticates: the page offers the matching form.
async function chooseSignInForm() {
  let schemes = {};
  try {
    const doc = await fetch("/v0/openapi.json", { cache: "no-store" }).then((r) => r.json());
    schemes = (doc.components && doc.components.securitySchemes) || {};
  } catch (_) {
    // Without the document, the user name and password form stays.
  }
  const keystone = "keystone" in schemes;
  $("login-form").hidden = keystone;
  $("token-form").hidden = !keystone;
}

async function submitting(button, work) {
  clearError();
  button.disabled = true;
  try {
    await work();
  } catch (e) {
    showError(e);
  } finally {
    button.disabled = false;
  }
}

function signOut() {
  clearTimeout(state.actionsTimer);
  state.seen = "";
  state.auth = null;
  state.me = null;
  sessionStorage.removeItem("hil-auth");
  $("app").hidden = true;
  $("login").hidden = false;
  $("sign-out").hidden = true;
  $("whoami").textContent = "";
  $("actions").tBodies[0].replaceChildren();
  $("login-password").value = "";
  $("login-token").value = "";
  clearError();
}

function showApp() {
  const me = state.me;
  $("login").hidden = true;
  $("app").hidden = false;
  $("sign-out").hidden = false;
  $("whoami").textContent = `${me.user || "(no user)"}${me.is_admin ? " — administrator" : ""}`;
  $("project").replaceChildren(...me.projects.map((p) => el("option", { value: p }, p)));
  $("admin").hidden = !me.is_admin;
  refresh();
}

// ---- the project view ----

async function refresh() {
  clearError();
  const project = $("project").value;
  const jobs = [loadProject(project), loadActions()];
  if (state.me.is_admin) jobs.push(loadAdmin());
  await Promise.all(jobs);
}

// Reads first and replaces the tables after, so that a periodic reload never shows them
// empty for a moment.
async function loadProject(project) {
  const tbody = $("nodes").tBodies[0];
  const list = $("networks");
  if (!project) {
    tbody.replaceChildren(el("tr", {}, el("td", { colspan: "4" }, "You belong to no project.")));
    list.replaceChildren();
    return;
  }
  try {
    const [nodes, networks] = await Promise.all([
      api("GET", `/project/${enc(project)}/nodes`),
      api("GET", `/project/${enc(project)}/networks`),
    ]);
    const infos = await Promise.all(nodes.sort().map((n) => api("GET", `/node/${enc(n)}`)));
    if (project !== $("project").value) return;
    state.networks = networks.slice().sort();
    list.replaceChildren(...state.networks.map((n) => el("li", { "data-network": n }, n)));
    if (state.networks.length === 0) list.append(el("li", {}, "No networks."));
    tbody.replaceChildren(...infos.map(nodeRow));
    if (infos.length === 0) {
      tbody.append(el("tr", {}, el("td", { colspan: "4" }, "No nodes in this project.")));
    }
    for (const info of infos) loadPower(info.name);
  } catch (e) {
    showError(e);
  }
}

function nodeRow(info) {
  const nics = el("div", { class: "nics" });
  for (const nic of info.nics) nics.append(nicBlock(info.name, nic));
  if (info.nics.length === 0) nics.append("no NICs");
  const power = el("button", {
    type: "button",
    "data-do": "power-cycle",
    onclick: () => powerCycle(info.name),
  }, "Power cycle");
  return el("tr", { "data-node": info.name },
    el("td", {}, info.name),
    el("td", { class: "power" }, "…"),
    el("td", {}, nics),
    el("td", {}, power));
}

function nicBlock(node, nic) {
  const attached = el("ul", { class: "attached" });
  for (const [channel, network] of Object.entries(nic.networks)) {
    attached.append(el("li", { "data-network": network },
      `${network} (${channel}) `,
      el("button", {
        type: "button",
        "data-do": "detach",
        onclick: () => networkAction(node, nic.label, "detach", network),
      }, "Detach")));
  }
  const choice = el("select", { "data-nic": nic.label });
  for (const n of state.networks) choice.append(el("option", { value: n }, n));
  const connect = el("button", {
    type: "button",
    "data-do": "connect",
    onclick: () => networkAction(node, nic.label, "connect", choice.value),
  }, "Connect");
  if (state.networks.length === 0) connect.disabled = true;
  return el("div", { class: "nic", "data-nic": nic.label },
    el("strong", {}, nic.label), attached, choice, " ", connect);
}

async function loadPower(node) {
  // The row is looked up once the answer is in: a reload may have replaced it meanwhile.
  const cell = () => document.querySelector(`tr[data-node="${CSS.escape(node)}"] .power`);
  let shown;
  try {
    shown = (await api("GET", `/node/${enc(node)}/power_status`)).power_status;
  } catch (e) {
    shown = el("span", {}, "unknown", el("div", { class: "cell-error" }, String(e)));
  }
  cell()?.replaceChildren(shown);
}

async function powerCycle(node) {
  clearError();
  try {
    await api("POST", `/node/${enc(node)}/power_cycle`, {});
    loadPower(node);
  } catch (e) {
    showError(e);
  }
}

// ---- networking actions and their live status ----

async function networkAction(node, nic, kind, network) {
  clearError();
  if (!network) {
    showError("Choose a network first.");
    return;
  }
  try {
    const path = `/node/${enc(node)}/nic/${enc(nic)}/${kind}_network`;
    await api("POST", path, { network });
    await loadActions();
  } catch (e) {
    showError(e);
  }
}

// What an action does, in the words of the buttons that start it.
function actionKind(a) {
  if (a.type === "modify_port") return a.new_network ? "connect" : "detach";
  return a.type === "revert_port" ? "detach all" : a.type;
}

// The selected project's actions (GET /v0/networking_actions?project=...), whoever started
// them, newest first: each nic's latest. When one settles the nodes are read again.
async function loadActions() {
  clearTimeout(state.actionsTimer);
  const project = $("project").value;
  const tbody = $("actions").tBodies[0];
  if (!project || !state.auth) {
    tbody.replaceChildren();
    return;
  }
  let actions;
  try {
    actions = await api("GET", `/networking_actions?project=${enc(project)}`);
  } catch (e) {
    tbody.replaceChildren(el("tr", {}, el("td", { colspan: "6" }, String(e))));
    return;
  }
  if (project !== $("project").value || !state.auth) return;
  tbody.replaceChildren(...actions.map((a) => el("tr", { "data-action-id": a.status_id },
    el("td", {}, a.node), el("td", {}, a.nic),
    el("td", { class: "kind" }, actionKind(a)), el("td", {}, a.new_network || "-"),
    el("td", {}, a.channel),
    el("td", { class: `status ${a.status}` }, a.status + (a.error ? `: ${a.error}` : "")))));
  if (actions.length === 0) tbody.append(el("tr", {}, el("td", { colspan: "6" }, "None yet.")));
  // An action that appeared or changed status may have changed the nodes' networks.
  const seen = project + " " + actions.map((a) => `${a.status_id}:${a.status}`).join(" ");
  if (state.seen && seen !== state.seen) {
    loadProject(project);
    if (state.me.is_admin) loadQueue();
  }
  state.seen = seen;
  const pending = actions.some((a) => a.status === "PENDING");
  // Another read may have finished meanwhile (a click, Refresh): keep one timer only.
  clearTimeout(state.actionsTimer);
  state.actionsTimer = setTimeout(loadActions, pending ? POLL_MS : IDLE_POLL_MS);
}

// ---- administrators ----

// Fills a table's body with a row per item of `GET path`, or says why it cannot.
async function loadTable(id, path, row, columns) {
  const tbody = $(id).tBodies[0];
  try {
    const items = await api("GET", path);
    tbody.replaceChildren(...items.map(row));
    if (items.length === 0) tbody.append(el("tr", {}, el("td", { colspan: columns }, "None.")));
  } catch (e) {
    tbody.replaceChildren(el("tr", {}, el("td", { colspan: columns }, String(e))));
  }
}

async function loadAdmin() {
  await Promise.all([loadSwitches(), loadQueue(), loadAudits(), loadDrift(), loadAuditLog()]);
}

function loadQueue() {
  const pair = (x, y) => (x || y ? `${x || "-"} / ${y || "-"}` : "-");
  return loadTable("queue", "/networking_actions", (a) => el("tr", { "data-queued": a.status_id },
    el("td", { class: `status ${a.status}` }, a.status), el("td", {}, a.type),
    el("td", {}, pair(a.node, a.nic)), el("td", {}, pair(a.switch, a.port)),
    el("td", {}, a.channel), el("td", {}, a.new_network || "-"),
    el("td", {}, a.attempts), el("td", {}, a.error || "")), "8");
}

const vlans = (byChannel) => Object.entries(byChannel).map(([c, v]) => `${c}=${v}`).join(", ") || "none";

function loadAudits() {
  return loadTable("audits", "/audits", (a) => el("tr", { "data-switch": a.switch },
    el("td", {}, a.switch), el("td", {}, a.state),
    el("td", { class: `result ${a.last_result || ""}` }, a.last_result || "never audited"),
    el("td", {}, a.last_finished || "-"),
    el("td", {}, `${a.ports_checked} / ${a.ports_skipped} / ${a.ports_drifted}`),
    el("td", {}, a.last_error || "")), "6");
}

function loadDrift() {
  return loadTable("drift", "/drift", (d) => el("tr", { "data-port": `${d.switch}/${d.port}` },
    el("td", {}, `${d.switch} / ${d.port}`), el("td", {}, `${d.node || "-"} / ${d.nic || "-"}`),
    el("td", {}, vlans(d.expected)), el("td", {}, vlans(d.actual)),
    el("td", { class: d.foreign_vlans.length ? "foreign" : "" }, d.foreign_vlans.join(", ") || "-"),
    el("td", {}, d.first_seen), el("td", {}, d.repair_status || "-")), "7");
}

// Every switch is read at once, and the list replaced when all have answered.
async function loadSwitches() {
  const box = $("switches");
  try {
    const names = (await api("GET", "/switches")).sort();
    const switches = await Promise.all(names.map((n) => api("GET", `/switch/${enc(n)}`)));
    box.replaceChildren(...switches.map((sw, i) => el("div", { class: "switch", "data-switch": names[i] },
      el("strong", {}, names[i]), ` (${sw.capabilities.join(", ") || "no capabilities"})`,
      el("ul", {}, ...sw.ports.map((p) => el("li", {}, p.label || JSON.stringify(p)))))));
    if (names.length === 0) box.append("No switches.");
  } catch (e) {
    box.replaceChildren(String(e));
  }
}

function loadAuditLog() {
  return loadTable("audit-log", "/audit_log?limit=50", (e) => el("tr", {},
    el("td", {}, e.time), el("td", {}, e.user || "-"),
    el("td", {}, `${e.method} ${e.path}`), el("td", {}, `${e.status} ${e.outcome}`)), "4");
}

// ---- wiring ----

document.addEventListener("DOMContentLoaded", () => {
  $("login-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const auth = basicAuth($("login-user").value, $("login-password").value);
    submitting($("login-submit"), () => signIn(auth));
  });
  $("token-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const auth = { name: "X-Auth-Token", value: $("login-token").value.trim() };
    submitting($("token-submit"), () => signIn(auth));
  });
  $("sign-out").addEventListener("click", signOut);
  $("refresh").addEventListener("click", refresh);
  $("project").addEventListener("change", refresh);
  chooseSignInForm();
  let saved = null;
  try {
    saved = JSON.parse(sessionStorage.getItem("hil-auth"));
  } catch (_) {
    sessionStorage.removeItem("hil-auth");
  }
  if (saved && saved.name && saved.value) {
    state.auth = saved;
    api("GET", "/whoami").then((me) => {
      state.me = me;
      showApp();
    }, (e) => {
      signOut();
      showError(e);
    });
  }
});
