// The account page: it talks to the browser group (/auth/browser/*) and to
// the Bearer group's GET /auth/me, GET /auth/sessions and
// DELETE /auth/sessions/{id}, which accept the access cookie. Tokens live in
// HttpOnly cookies; this script never sees one.
"use strict";

const $ = (sel) => document.querySelector(sel);

// signedIn is whether the page showed a signed-in view: a failed refresh
// is news then (the session ended elsewhere), not on a first visit.
let signedIn = false;

// api sends one request. On a 401 it refreshes once through the refresh
// cookie and retries once; when that fails too, the session is over and
// the login form is shown. It returns the Response, or null when signed out.
async function api(method, path, body, retried) {
  const init = { method, credentials: "same-origin", headers: {} };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const res = await fetch(path, init);
  if (res.status !== 401 || retried) {
    return res;
  }
  const refreshed = await fetch("/auth/browser/refresh", { method: "POST", credentials: "same-origin" });
  if (!refreshed.ok) {
    if (signedIn) {
      await showError(refreshed);
    }
    signedOut();
    return null;
  }
  return api(method, path, body, true);
}

async function showError(res) {
  let text = "HTTP " + res.status;
  try {
    const e = await res.json();
    if (e && e.error) {
      text = e.error + ": " + (e.error_description || "");
    }
  } catch (_) {
    // not JSON: keep the status
  }
  const el = $("#error");
  el.textContent = text;
  el.hidden = false;
}

function clearError() {
  const el = $("#error");
  el.textContent = "";
  el.hidden = true;
}

function signedOut() {
  signedIn = false;
  $("#signed-in").hidden = true;
  $("#who").hidden = true;
  $("#me").textContent = "";
  $("#sessions").replaceChildren();
  $("#signed-out").hidden = false;
}

function when(iso) {
  const d = new Date(iso);
  return isNaN(d) ? iso : d.toLocaleString();
}

// deviceLabel turns a User-Agent into "Firefox on Windows"; the whole
// User-Agent stays in the tooltip.
function deviceLabel(ua) {
  if (!ua) {
    return "Unknown device";
  }
  const browsers = [["Edg/", "Edge"], ["OPR/", "Opera"], ["Firefox/", "Firefox"], ["HeadlessChrome/", "Headless Chrome"],
    ["Chrome/", "Chrome"], ["Safari/", "Safari"], ["curl/", "curl"]];
  const systems = [["Android", "Android"], ["iPhone", "iPhone"], ["iPad", "iPad"], ["Windows", "Windows"],
    ["Mac OS X", "macOS"], ["CrOS", "ChromeOS"], ["Linux", "Linux"]];
  const browser = (browsers.find(([k]) => ua.includes(k)) || [null, null])[1];
  const system = (systems.find(([k]) => ua.includes(k)) || [null, null])[1];
  if (browser && system) {
    return browser + " on " + system;
  }
  return browser || system || ua;
}

function sessionItem(s) {
  const li = document.createElement("li");
  li.dataset.sessionId = s.id;
  li.dataset.current = s.current ? "true" : "false";
  const info = document.createElement("div");
  info.className = "device";
  const name = document.createElement("div");
  name.className = "name";
  name.textContent = deviceLabel(s.device_name);
  name.title = s.device_name || "";
  const meta = document.createElement("div");
  meta.className = "meta";
  meta.textContent = (s.ip || "unknown IP") + " · signed in " + when(s.created_at) + " · last seen " + when(s.last_seen_at);
  if (s.current) {
    const badge = document.createElement("span");
    badge.className = "badge";
    badge.textContent = "this device";
    info.append(badge);
  }
  info.append(name, meta);
  const revoke = document.createElement("button");
  revoke.type = "button";
  revoke.className = "revoke";
  revoke.textContent = s.current ? "Revoke (this device)" : "Revoke";
  revoke.addEventListener("click", () => revokeSession(s.id, s.current));
  li.append(info, revoke);
  return li;
}

// load shows the signed-in view, or the login form.
async function load() {
  const me = await api("GET", "/auth/me");
  if (!me) {
    return;
  }
  if (!me.ok) {
    if (me.status !== 401) {
      await showError(me);
    }
    signedOut();
    return;
  }
  const user = await me.json();
  const list = await api("GET", "/auth/sessions");
  if (!list) {
    return;
  }
  if (!list.ok) {
    await showError(list);
    return;
  }
  const sessions = await list.json();
  $("#me").textContent = user.username;
  $("#who").hidden = false;
  $("#sessions").replaceChildren(...sessions.map(sessionItem));
  $("#signed-out").hidden = true;
  $("#signed-in").hidden = false;
  signedIn = true;
}

async function revokeSession(id, current) {
  clearError();
  const res = await api("DELETE", "/auth/sessions/" + encodeURIComponent(id));
  if (!res) {
    return;
  }
  if (!res.ok) {
    await showError(res);
  }
  if (current) {
    // This device's session is gone: drop its cookies too.
    await fetch("/auth/browser/logout", { method: "POST", credentials: "same-origin" });
    signedOut();
    return;
  }
  await load();
}

async function logout(path, stays) {
  clearError();
  const res = await api("POST", path);
  if (!res) {
    return;
  }
  if (!res.ok) {
    await showError(res);
    return;
  }
  if (stays) {
    await load();
  } else {
    signedOut();
  }
}

async function login(ev) {
  ev.preventDefault();
  clearError();
  const form = ev.target;
  const res = await fetch("/auth/browser/login", {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ username: form.username.value, password: form.password.value }),
  });
  if (!res.ok) {
    await showError(res);
    return;
  }
  form.password.value = "";
  await load();
}

document.addEventListener("DOMContentLoaded", () => {
  $("#login").addEventListener("submit", login);
  $("#logout").addEventListener("click", () => logout("/auth/browser/logout", false));
  $("#logout-others").addEventListener("click", () => logout("/auth/browser/logout/others", true));
  $("#logout-all").addEventListener("click", () => logout("/auth/browser/logout/all", false));
  load();
});
