// The chat page: pick an agent, stream answers token by token, accept or dismiss offers, see creator answers live.
import { api, ApiError, el, follow, PATH_LABELS, postStream, setUpSignIn } from "./api.js";

const list = document.getElementById("messages");
const select = document.getElementById("agent");
const composer = document.getElementById("composer");
const chatError = document.getElementById("chat-error");
const rendered = new Map(); // message id -> list item, so live events never show a message twice
let agents = [];
let conversation = null;
let stopFollowing = () => {};

function badge(path) {
  return path ? el("span", { class: `badge ${path}` }, PATH_LABELS[path] || path) : null;
}

function metaLine(message) {
  const parts = [];
  if (message.attribution) parts.push(message.attribution);
  if (message.confidence) parts.push(`confidence ${message.confidence.level} (${message.confidence.score.toFixed(2)})`);
  return parts.length ? el("div", { class: "meta" }, parts.join(" · ")) : null;
}

function offerButtons(escalationId, hours, label) {
  const box = el("div", { class: "offer" });
  const note = el("span", { class: "muted" }, hours ? `Expected reply within ${hours} h.` : "");
  const decide = (action) => async () => {
    box.querySelectorAll("button").forEach((button) => { button.disabled = true; });
    try {
      const result = await api("POST", `/orchestrator/queue/${escalationId}/${action}`);
      box.replaceChildren(el("span", { class: "muted" }, action === "accept"
        ? (result.escalation.status === "pending" ? "Sent to the creator." : "Not sent.") : "Not sent."));
      if (result.message && result.message.id) renderMessage(result.message);
    } catch (error) {
      box.replaceChildren(el("span", { class: "muted" }, error instanceof ApiError && error.status === 409
        ? "Already decided." : "Could not send that; please try again."));
    }
  };
  box.append(
    el("button", { type: "button", onclick: decide("accept") }, label),
    el("button", { type: "button", class: "secondary", onclick: decide("dismiss") }, "No thanks"),
    note,
  );
  return box;
}

// "Did this answer your question?" under answers (paths A and C): yes teaches the creator's answer this question,
// no stops it being served for it and offers the creator instead.
function feedbackButtons(messageId) {
  const box = el("div", { class: "feedback" }, el("span", { class: "muted" }, "Did this answer your question?"));
  const give = (answered) => async () => {
    box.querySelectorAll("button").forEach((button) => { button.disabled = true; });
    try {
      const result = await api("POST", `/messaging/conversations/${conversation.id}/messages/${messageId}/feedback`,
        { answered });
      box.replaceChildren(el("span", { class: "muted" }, answered ? "Thanks, noted." : "Sorry about that."));
      if (result.message && result.message.id) renderMessage(result.message);
    } catch (error) {
      box.replaceChildren(el("span", { class: "muted" }, error instanceof ApiError && error.status === 409
        ? "You already answered that." : "Could not send that; please try again."));
    }
  };
  box.append(
    el("button", { type: "button", class: "secondary", onclick: give(true) }, "Yes"),
    el("button", { type: "button", class: "secondary", onclick: give(false) }, "No"),
  );
  return box;
}

// One message, from history, a stream, or a live event. Agent messages from the API carry their extras flat
// (stream events) or under metadata (stored messages).
function renderMessage(message) {
  const extras = { ...(message.metadata || {}), ...message };
  const item = rendered.get(message.id) || el("li", {});
  item.className = `msg ${message.role === "user" ? "user" : "agent"}`;
  item.replaceChildren(...[
    message.role === "user" ? null : badge(message.path),
    extras.reason === "not_answered" && message.role === "user" ? el("div", { class: "meta" }, "Asked again") : null,
    el("div", { class: "content" }, message.content),
    message.role === "user" ? null : metaLine(extras),
  ].filter(Boolean)); // the DOM would print a null as "null"
  const offer = extras.escalation_id && (message.path === "D" || (message.path === "A" && extras.expected_response_hours));
  // A path D offer says the expected reply time in its text; an offer attached to an answer does not.
  if (offer) item.append(message.path === "D"
    ? offerButtons(extras.escalation_id, null, "Send to the creator")
    : offerButtons(extras.escalation_id, extras.expected_response_hours, "Ask the creator"));
  else if (message.role !== "user" && (message.path === "A" || message.path === "C")) item.append(feedbackButtons(message.id));
  if (!rendered.has(message.id)) list.append(item);
  rendered.set(message.id, item);
  item.scrollIntoView({ block: "end" });
  return item;
}

async function openConversation(agent) {
  stopFollowing();
  list.replaceChildren();
  rendered.clear();
  document.getElementById("agent-persona").textContent = agent.persona;
  history.replaceState(null, "", `/chat/${agent.handle}`);
  const mine = await api("GET", "/messaging/conversations");
  conversation = mine.find((c) => c.agent_id === agent.id) || null;
  if (!conversation) return;
  for (const message of await api("GET", `/messaging/conversations/${conversation.id}/messages`)) renderMessage(message);
  stopFollowing = follow(`/messaging/conversations/${conversation.id}/events`, (event) => {
    if (event.event === "message" && event.data.id) renderMessage({ role: "agent", ...event.data });
  });
}

async function send(text) {
  const agent = agents.find((a) => a.id === select.value);
  if (!conversation) {
    conversation = await api("POST", "/messaging/conversations", { agent_id: agent.id, channel: "web" });
    stopFollowing = follow(`/messaging/conversations/${conversation.id}/events`, (event) => {
      if (event.event === "message" && event.data.id) renderMessage({ role: "agent", ...event.data });
    });
  }
  let pending = null;
  let textSoFar = "";
  for await (const { event, data } of postStream(`/messaging/conversations/${conversation.id}/stream`, { content: text })) {
    if (event === "decision") {
      renderMessage({ id: data.message_id, role: "user", content: text });
      pending = el("li", { class: "msg agent", "aria-busy": "true" }, badge(data.path), el("div", { class: "content" }, "…"));
      list.append(pending);
    } else if (event === "token" && pending) {
      textSoFar += data.text;
      pending.querySelector(".content").textContent = textSoFar;
    } else if (event === "message" || event === "escalation_offer") {
      const message = event === "message" ? { role: "agent", ...data }
        : { id: data.message_id, role: "agent", path: "D", content: data.content, ...data };
      if (pending) { pending.remove(); pending = null; }
      renderMessage(message);
    } else if (event === "error") {
      chatError.textContent = data.message;
    }
  }
  if (pending) pending.remove();
}

composer.addEventListener("submit", async (event) => {
  event.preventDefault();
  const text = composer.elements.message.value.trim();
  if (!text) return;
  chatError.textContent = "";
  composer.elements.message.value = "";
  const button = composer.querySelector("button");
  button.disabled = true;
  try {
    await send(text);
  } catch (error) {
    chatError.textContent = error instanceof ApiError ? error.message : "The message could not be sent; please retry.";
    composer.elements.message.value = text;
  } finally {
    button.disabled = false;
    composer.elements.message.focus();
  }
});

composer.elements.message.addEventListener("keydown", (event) => {
  if (event.key === "Enter" && !event.shiftKey) { event.preventDefault(); composer.requestSubmit(); }
});

select.addEventListener("change", () => openConversation(agents.find((a) => a.id === select.value)));

setUpSignIn("user", async () => {
  agents = await api("GET", "/agents");
  select.replaceChildren(...agents.map((a) => el("option", { value: a.id }, `${a.name} (@${a.handle})`)));
  const wanted = decodeURIComponent(location.pathname.split("/chat/")[1] || "");
  const agent = agents.find((a) => a.handle === wanted) || agents[0];
  document.getElementById("chat").hidden = false;
  if (!agent) { chatError.textContent = "No agents to talk to yet."; return; }
  select.value = agent.id;
  await openConversation(agent);
});
