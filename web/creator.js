// The creator inbox: pending questions (newest first) to answer or decline, live; the canonical answers, editable.
import { api, ApiError, el, follow, setUpSignIn } from "./api.js";

const queue = document.getElementById("queue");
const status = document.getElementById("inbox-status");
const LAYERS = [["public", "public: everyone"], ["friends", "friends: followers and paid"], ["intimate", "intimate: paid only"]];
const TIERS_OF = { public: ["free", "follower", "paid"], friends: ["follower", "paid"], intimate: ["paid"] };

function layerSelect(id, value, tier) {
  const options = LAYERS.filter(([layer]) => !tier || TIERS_OF[layer].includes(tier));
  const select = el("select", { id }, options.map(([layer, label]) => el("option", { value: layer }, label)));
  select.value = value || "public";
  return select;
}

function escalationCard(escalation) {
  const id = escalation.id;
  const error = el("p", { role: "alert" });
  const answer = el("textarea", { id: `answer-${id}`, rows: "4", maxlength: "10000" });
  const layer = layerSelect(`layer-${id}`, "public", escalation.user_tier);
  const reason = el("input", { id: `reason-${id}`, maxlength: "1000" });
  const card = el("article", { class: "card", "aria-labelledby": `q-${id}`, "data-escalation": id });

  async function act(action, body) {
    error.textContent = "";
    card.querySelectorAll("button").forEach((b) => { b.disabled = true; });
    try {
      await api("POST", `/orchestrator/queue/${id}/${action}`, body);
      card.remove();
      status.textContent = action === "answer" ? "Answered: it is on its way to the user and saved for reuse." : "Declined: the user was told.";
      updateCount();
      loadAnswers();
    } catch (failure) {
      error.textContent = failure instanceof ApiError ? failure.message : "That did not go through; please retry.";
      card.querySelectorAll("button").forEach((b) => { b.disabled = false; });
    }
  }

  const draft = escalation.ai_draft ? el("div", { class: "draft" },
    el("p", { class: "muted" }, `AI draft (confidence ${escalation.ai_confidence?.level ?? "?"} `
      + `${escalation.ai_confidence ? escalation.ai_confidence.score.toFixed(2) : ""})`),
    el("p", {}, escalation.ai_draft),
    el("button", { type: "button", class: "secondary", onclick: () => { answer.value = escalation.ai_draft; answer.focus(); } },
      "Start from the AI draft"),
  ) : null;

  // Answers that may already say it: linking one delivers it and teaches it this phrasing.
  const suggestions = el("div", { class: "suggestions" });
  api("GET", `/orchestrator/queue/${id}/suggestions`).then((found) => {
    if (!found.length) return;
    suggestions.append(el("p", { class: "muted" }, "Already answered? Linking reuses your answer and teaches it this question."),
      ...found.map((s) => el("div", { class: "suggestion" },
        el("p", {}, s.answer),
        el("p", { class: "muted" }, `for “${s.matched_question}” · ${s.layer} · similarity ${s.similarity.toFixed(2)}`),
        el("button", { type: "button", class: "secondary", onclick: () => act("answer", { link_to: s.answer_id }) },
          "Use this answer"))));
  }).catch(() => {});

  card.append(
    el("h3", { id: `q-${id}` }, escalation.question),
    el("p", { class: "muted" }, `@${escalation.agent_handle} · ${escalation.user_tier} member · reason: ${escalation.reason}`
      + ` · ${new Date(escalation.queued_at || escalation.created_at).toLocaleString()}`),
    el("div", { class: "context" }, escalation.context_summary),
    ...(draft ? [draft] : []),
    suggestions,
    el("label", { for: answer.id }, "Your answer"), answer,
    el("div", { class: "row" },
      el("div", {}, el("label", { for: layer.id }, "Who may see it again"), layer),
      el("div", {}, el("label", { for: reason.id }, "Reason if you decline (optional)"), reason)),
    error,
    el("div", { class: "offer" },
      el("button", { type: "button", onclick: () => {
        if (!answer.value.trim()) { error.textContent = "Write an answer first (or decline)."; answer.focus(); return; }
        act("answer", { answer: answer.value, layer: layer.value });
      } }, "Send answer"),
      el("button", { type: "button", class: "secondary", onclick: () => act("decline", { reason: reason.value || null }) }, "Decline"),
      el("button", { type: "button", class: "secondary", onclick: () => {
        const next = card.nextElementSibling?.querySelector("textarea");
        (next || answer).focus();
      } }, "Leave for later")),
  );
  return card;
}

function updateCount() {
  const count = queue.querySelectorAll("article").length;
  document.getElementById("pending-count").textContent = count ? `(${count})` : "";
  if (!count) queue.replaceChildren(el("p", { class: "muted empty" }, "Nothing waiting. New questions appear here as they arrive."));
}

async function loadQueue() {
  const pending = await api("GET", "/orchestrator/queue?status=pending");
  const open = new Set([...queue.querySelectorAll("article")].map((card) => card.dataset.escalation));
  queue.querySelector(".empty")?.remove();
  // Newest first; cards being worked on stay as they are.
  pending.filter((e) => !open.has(e.id)).reverse().forEach((e) => queue.prepend(escalationCard(e)));
  updateCount();
}

// The phrasings an answer is served for, and the questions users said it missed; learned ones can be removed.
function phrasings(agent, answer) {
  const path = `/agents/${agent.id}/canonical-answers/${answer.id}/variants`;
  const body = el("div", {});
  const details = el("details", {}, el("summary", {}, `${answer.variants} phrasing${answer.variants === 1 ? "" : "s"}`), body);
  async function load() {
    const { variants, negatives } = await api("GET", path);
    body.replaceChildren(
      el("ul", { class: "variants" }, ...variants.map((v) => el("li", {},
        el("span", {}, v.question), el("span", { class: "muted" }, ` · ${v.source}`),
        v.source === "original" ? null : el("button", { type: "button", class: "link", "aria-label": `Remove “${v.question}”`,
          onclick: async () => { await api("DELETE", `${path}/${v.id}`); load(); } }, "Remove")))),
      ...(negatives.length ? [el("p", { class: "muted" }, "Never served for (users said it missed):"),
        el("ul", { class: "variants" }, ...negatives.map((n) => el("li", { class: "muted" }, n.question)))] : []));
  }
  details.addEventListener("toggle", () => { if (details.open) load(); });
  return details;
}

async function loadAnswers() {
  const container = document.getElementById("answers");
  const agents = await api("GET", "/agents");
  const rows = [];
  for (const agent of agents) {
    for (const answer of await api("GET", `/agents/${agent.id}/canonical-answers`)) {
      const question = el("input", { id: `cq-${answer.id}`, value: answer.question, "aria-label": "Question" });
      const text = el("textarea", { id: `ca-${answer.id}`, rows: "2", "aria-label": "Answer" }, answer.answer);
      const layer = layerSelect(`cl-${answer.id}`, answer.layer);
      layer.setAttribute("aria-label", "Layer");
      const note = el("span", { class: "muted", role: "status" });
      rows.push(el("tr", {},
        el("td", {}, question), el("td", {}, text), el("td", {}, layer),
        el("td", { class: "reuse" }, String(answer.times_reused)),
        el("td", {}, phrasings(agent, answer)),
        el("td", {}, el("button", { type: "button", class: "secondary", onclick: async () => {
          try {
            await api("PUT", `/agents/${agent.id}/canonical-answers/${answer.id}`,
              { question: question.value, answer: text.value, layer: layer.value });
            note.textContent = "Saved";
          } catch (failure) { note.textContent = failure.message; }
        } }, "Save"), note)));
    }
  }
  container.replaceChildren(rows.length ? el("table", {},
    el("thead", {}, el("tr", {}, ["Question", "Answer", "Layer", "Reused", "Asked as", ""].map((h) => el("th", { scope: "col" }, h)))),
    el("tbody", {}, rows)) : el("p", { class: "muted" }, "No answers yet: answering a question adds one."));
}

setUpSignIn("creator", async () => {
  document.getElementById("inbox").hidden = false;
  document.getElementById("canonical").hidden = false;
  const agents = await api("GET", "/agents");
  document.getElementById("agent-links").replaceChildren(
    ...agents.map((a) => el("a", { href: `/creator/agents/${a.id}` }, `${a.name} dashboard`)));
  follow("/orchestrator/queue/events", (event) => { if (event.event === "escalation") loadQueue(); });
  await Promise.all([loadQueue(), loadAnswers()]);
});
