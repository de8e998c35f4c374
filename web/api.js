// Shared by the pages: the signed-in key, JSON calls with the API's error shape, SSE over fetch, small DOM helpers.
// EventSource cannot send an Authorization header, so streams are read with fetch and parsed here.

const KEY = "orchestrator.key";

export const session = {
  get key() { return localStorage.getItem(KEY); },
  set key(value) { value ? localStorage.setItem(KEY, value) : localStorage.removeItem(KEY); },
};

export class ApiError extends Error {
  constructor(status, code, message) { super(message); this.status = status; this.code = code; }
}

function headers(extra = {}) {
  return { Authorization: `Bearer ${session.key}`, ...extra };
}

export async function api(method, path, body) {
  const response = await fetch(path, {
    method,
    headers: headers(body === undefined ? {} : { "Content-Type": "application/json" }),
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = await response.json().catch(() => ({}));
  if (!response.ok) {
    const error = data.error || {};
    throw new ApiError(response.status, error.code || "error", error.message || response.statusText);
  }
  return data;
}

// Yields {event, data, id} from a text/event-stream response body.
export async function* readEvents(response) {
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += decoder.decode(value, { stream: true }).replace(/\r\n/g, "\n");
    let end;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const event = { event: "message", data: "", id: null };
      for (const line of block.split("\n")) {
        const colon = line.indexOf(":");
        if (colon <= 0) continue;
        const field = line.slice(0, colon);
        const value = line.slice(colon + 1).replace(/^ /, "");
        if (field === "event") event.event = value;
        else if (field === "data") event.data += value;
        else if (field === "id") event.id = value;
      }
      if (event.data) {
        try { event.data = JSON.parse(event.data); } catch { /* keep the text */ }
        yield event;
      }
    }
  }
}

// POST a body and stream the reply's events.
export async function* postStream(path, body) {
  const response = await fetch(path, {
    method: "POST",
    headers: headers({ "Content-Type": "application/json", Accept: "text/event-stream" }),
    body: JSON.stringify(body),
  });
  if (!response.ok) {
    const error = (await response.json().catch(() => ({}))).error || {};
    throw new ApiError(response.status, error.code || "error", error.message || response.statusText);
  }
  yield* readEvents(response);
}

// Follow a live stream for as long as the page lives; reconnect with Last-Event-ID so nothing is missed.
export function follow(path, onEvent) {
  let lastId = null;
  let stopped = false;
  const controller = new AbortController();
  (async () => {
    while (!stopped) {
      try {
        const response = await fetch(path, {
          headers: headers(lastId ? { "Last-Event-ID": lastId, Accept: "text/event-stream" } : { Accept: "text/event-stream" }),
          signal: controller.signal,
        });
        if (response.status === 401 || response.status === 403 || response.status === 404) return;
        for await (const event of readEvents(response)) {
          if (event.id) lastId = event.id;
          onEvent(event);
        }
      } catch (error) {
        if (stopped) return;
      }
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  })();
  return () => { stopped = true; controller.abort(); };
}

export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === false || value == null) continue;
    if (name === "class") node.className = value;
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child != null && child !== false) node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

// Wire the sign-in form: check the key with /me, keep it in this browser, start the page for the right role.
export function setUpSignIn(role, start) {
  const form = document.getElementById("signin");
  const error = document.getElementById("signin-error");
  const signOut = document.getElementById("signout");
  const who = document.getElementById("who");

  async function begin() {
    try {
      const me = await api("GET", "/me");
      if (me.role !== role) throw new ApiError(403, "forbidden", `This page is for ${role} keys; this key is a ${me.role} key.`);
      form.hidden = true;
      signOut.hidden = false;
      who.textContent = `Signed in as ${me.handle}${me.tier ? ` (${me.tier})` : ""}`;
      await start(me);
    } catch (failure) {
      session.key = null;
      form.hidden = false;
      error.textContent = failure instanceof ApiError ? failure.message : "Could not reach the server.";
    }
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    session.key = form.elements.key.value.trim();
    form.reset();
    begin();
  });
  signOut.addEventListener("click", () => { session.key = null; location.reload(); });
  if (session.key) begin(); else form.hidden = false;
}

export const PATH_LABELS = {
  A: "answered by AI",
  B: "clarifying",
  C: "from the creator",
  D: "ask the creator?",
  E: "sent to the creator",
  F: "can't answer",
};
