// The dashboard: the agent's config as a form (validated by the API), and its metrics as charts.
import { api, ApiError, el, setUpSignIn } from "./api.js";
import { barChart } from "./charts.js";

const agentId = location.pathname.split("/").pop();
const form = document.getElementById("config");
const TIERS = ["free", "follower", "paid"];

// [path in the config, label, kind]; kinds: bool, number, tiers, lines, json, mode
const FIELDS = [
  ["enabled", "Agent answers messages", "bool"],
  ["auto_answer_confidence_threshold", "AI answers at or above this confidence", "number"],
  ["canonical_similarity_threshold", "Reuse your answer at or above this similarity", "number"],
  ["novelty_escalation_threshold", "Offer escalation at or above this novelty", "number"],
  ["complexity_escalation_threshold", "Offer escalation at or above this complexity", "number"],
  ["clarification_enabled", "Ask to clarify vague questions", "bool"],
  ["escalation_enabled", "Questions can be sent to you", "bool"],
  ["max_escalations_per_day", "Questions per day", "integer"],
  ["max_escalations_per_week", "Questions per week", "integer"],
  ["expected_response_hours", "Expected reply within (hours)", "integer"],
  ["allowed_user_tiers", "Tiers that may ask at all", "tiers"],
  ["escalation_user_tiers", "Tiers that may send questions to you", "tiers"],
  ["blocked_topics", "Blocked topics (one per line)", "lines"],
  ["availability_windows", "Availability windows (JSON: timezone and weekly hours; {} for always)", "json"],
  ["confidence_escalation.enabled", "Check the confidence of AI answers", "bool"],
  ["confidence_escalation.mode", "Confidence mode", "mode"],
  ["confidence_escalation.review_threshold", "Disclaimer and 'ask the creator' below", "number"],
  ["confidence_escalation.immediate_threshold", "Hold back and escalate below (empty: from the mode)", "number"],
  ["confidence_escalation.high_stakes_keywords", "Your high-stakes keywords (one per line)", "lines"],
  ["confidence_escalation.never_auto_answer", "Never answered by the AI alone (categories or keywords, one per line)", "lines"],
  ["confidence_escalation.add_disclaimer", "Add a disclaimer to unsure answers", "bool"],
];

const get = (object, path) => path.split(".").reduce((value, key) => value?.[key], object);
function set(object, path, value) {
  const keys = path.split(".");
  const last = keys.pop();
  keys.reduce((node, key) => (node[key] ??= {}), object)[last] = value;
}
const fieldId = (path) => `f-${path.replace(/\./g, "-")}`;

function field([path, label, kind], config) {
  const id = fieldId(path);
  const value = get(config, path);
  if (kind === "bool") {
    return el("label", { class: "check", for: id }, el("input", { id, type: "checkbox", checked: Boolean(value) }), label);
  }
  if (kind === "tiers") {
    return el("fieldset", { id }, el("legend", {}, label), TIERS.map((tier) => el("label", { class: "check" },
      el("input", { type: "checkbox", value: tier, checked: value.includes(tier) }), tier)));
  }
  let input;
  if (kind === "mode") {
    input = el("select", { id }, ["lenient", "standard", "strict"].map((m) => el("option", { value: m }, m)));
    input.value = value;
  } else if (kind === "lines" || kind === "json") {
    input = el("textarea", { id, rows: kind === "json" ? "3" : "2" },
      kind === "json" ? JSON.stringify(value) : value.join("\n"));
  } else {
    input = el("input", { id, type: "number", step: kind === "integer" ? "1" : "0.01", value: value ?? "" });
  }
  return el("div", {}, el("label", { for: id }, label), input);
}

function read([path, , kind]) {
  const node = document.getElementById(fieldId(path));
  if (kind === "bool") return node.checked;
  if (kind === "tiers") return [...node.querySelectorAll("input:checked")].map((box) => box.value);
  if (kind === "lines") return node.value.split("\n").map((line) => line.trim()).filter(Boolean);
  if (kind === "json") {
    try { return JSON.parse(node.value || "{}"); } catch { throw new ApiError(422, "validation_error", `${path}: not valid JSON`); }
  }
  if (kind === "mode") return node.value;
  if (node.value === "") return null;
  return kind === "integer" ? Number.parseInt(node.value, 10) : Number(node.value);
}

function renderForm(config) {
  const error = el("p", { role: "alert", id: "config-error" });
  const saved = el("p", { class: "status", role: "status", id: "config-status" });
  form.replaceChildren(...FIELDS.map((f) => field(f, config)), error, saved, el("button", { type: "submit" }, "Save rules"));
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const error = document.getElementById("config-error");
  const saved = document.getElementById("config-status");
  error.textContent = saved.textContent = "";
  form.querySelectorAll("[aria-invalid]").forEach((node) => node.removeAttribute("aria-invalid"));
  try {
    const body = {};
    for (const f of FIELDS) set(body, f[0], read(f));
    renderForm(await api("PUT", `/orchestrator/config/${agentId}`, body));
    document.getElementById("config-status").textContent = "Saved: the next message follows these rules.";
  } catch (failure) {
    error.textContent = failure instanceof ApiError ? failure.message : "Could not save; please retry.";
    const path = FIELDS.map((f) => f[0]).find((p) => error.textContent.startsWith(`${p}:`));
    if (path) {
      const node = document.getElementById(fieldId(path));
      node.setAttribute("aria-invalid", "true");
      node.setAttribute("aria-describedby", "config-error");
      node.focus();
    }
  }
});

function renderMetrics(metrics) {
  const days = [];
  for (let i = metrics.days - 1; i >= 0; i -= 1) {
    days.push(new Date(Date.now() - i * 86400000).toISOString().slice(0, 10));
  }
  const byDay = Object.fromEntries(metrics.daily.map((d) => [d.day, d]));
  const short = (day) => day.slice(5);
  const pathColors = { A: "#2455c3", B: "#b26a00", C: "#2e7d32", D: "#6a2fa0", E: "#8e44ad", F: "#b3261e" };
  document.getElementById("headline").textContent =
    `${metrics.total_messages} messages · auto-answer rate ${(metrics.auto_answer_rate * 100).toFixed(0)}% · `
    + `${metrics.escalations_today} of ${metrics.quota.per_day} questions to you today · `
    + `your answers reused ${metrics.answer_reuse_count} time${metrics.answer_reuse_count === 1 ? "" : "s"} · `
    + `${metrics.pending_escalations} waiting`;
  document.getElementById("chart-paths").append(barChart(
    Object.entries(metrics.path_counts).map(([path, value]) => ({ label: path, value, color: pathColors[path] })),
    { title: "Paths taken" }));
  document.getElementById("chart-auto").append(barChart(days.map((day) => {
    const d = byDay[day];
    const total = d ? Object.values(d).filter((v) => typeof v === "number").reduce((a, b) => a + b, 0) : 0;
    return { label: short(day), value: d && total ? d.A / total : 0 };
  }), { max: 1, format: (v) => `${Math.round(v * 100)}%`, title: "Auto-answer rate per day" }));
  document.getElementById("chart-escalations").append(barChart(
    days.map((day) => ({ label: short(day), value: byDay[day]?.E ?? 0, color: "#6a2fa0" })),
    { line: { value: metrics.quota.per_day, label: `quota ${metrics.quota.per_day}` }, title: "Escalations per day" }));
  document.getElementById("chart-reuse").append(barChart(
    days.map((day) => ({ label: short(day), value: byDay[day]?.C ?? 0, color: "#2e7d32" })),
    { title: "Answers reused per day" }));
}

setUpSignIn("creator", async () => {
  const [config, metrics] = await Promise.all([
    api("GET", `/orchestrator/config/${agentId}`),
    api("GET", `/orchestrator/metrics/${agentId}?days=14`),
  ]);
  document.getElementById("title").textContent = `@${config.agent_handle} dashboard`;
  document.getElementById("settings").hidden = false;
  document.getElementById("metrics").hidden = false;
  renderForm(config);
  renderMetrics(metrics);
});
