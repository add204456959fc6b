// What if: every slider move asks POST /api/whatif with the moved numbers (few draws while
// dragging, the full count on release) and shows each probability beside the case as written.
(function () {
  "use strict";
  const root = document.getElementById("whatif");
  const caseId = root.dataset.case;
  const fast = Number(root.dataset.draws);
  const full = Number(root.dataset.full);
  const seed = Number(root.dataset.seed);
  const body = document.querySelector("#results tbody");
  const status = document.getElementById("status");
  const record = document.getElementById("record");
  let busy = false;
  let queued = null;  // the draws of a request to send once the current one returns
  let latest = 0;

  function moved() {
    const set = {};
    for (const knob of document.querySelectorAll(".knob")) {
      const range = knob.querySelector("input[type=range]");
      // the slider snaps its first value to its step: unmoved is the value it showed at load
      if (range.value !== range.dataset.start) set[knob.dataset.key] = Number(range.value);
    }
    return set;
  }

  function fmt(item, v) {
    if (v === null || v === undefined) return "—";
    return item.kind === "settlement" ? v.toFixed(1) : (100 * v).toFixed(1) + "%";
  }

  function change(item) {
    if (item.change === null) return ["—", ""];
    const points = item.kind === "settlement" ? item.change : 100 * item.change;
    const text = (points > 0 ? "+" : points < 0 ? "−" : "±") + Math.abs(points).toFixed(1) +
      (item.kind === "settlement" ? "" : " pts");
    return [text, points > 0.05 ? "up" : points < -0.05 ? "down" : ""];
  }

  function show(data) {
    body.replaceChildren();
    let kind = "";
    for (const item of data.items) {
      if (item.kind !== kind) {
        kind = item.kind;
        const tr = document.createElement("tr");
        const th = document.createElement("th");
        th.colSpan = 4;
        th.textContent = { scenario: "Scenarios", question: "Questions", settlement: "Median settlement" }[kind] || kind;
        tr.appendChild(th); body.appendChild(tr);
      }
      const tr = document.createElement("tr");
      tr.dataset.key = item.key;
      const label = document.createElement("td");
      label.textContent = item.label;
      const now = document.createElement("td");
      now.className = "num now"; now.textContent = fmt(item, item.value);
      const base = document.createElement("td");
      base.className = "num"; base.textContent = fmt(item, item.baseline);
      const [text, cls] = change(item);
      const diff = document.createElement("td");
      diff.className = "num change " + cls; diff.textContent = text;
      tr.append(label, now, base, diff);
      body.appendChild(tr);
    }
    status.textContent = data.draws.toLocaleString() + " draws · " + data.seconds.toFixed(2) + " s";
  }

  async function ask(draws) {
    if (busy) { queued = Math.max(queued || 0, draws); return; }
    busy = true;
    const mine = ++latest;
    status.textContent = "running " + draws.toLocaleString() + " draws…";
    try {
      const r = await fetch("/api/whatif", {
        method: "POST", headers: { "content-type": "application/json", "x-standoff": "1" },
        body: JSON.stringify({ case: caseId, draws: draws, seed: seed, set: moved() }),
      });
      const data = await r.json();
      if (!r.ok) {
        const lines = (data.problems || []).map((p) => "line " + p.line + ": " + p.field + ": " + p.message);
        status.textContent = "error: " + (data.detail || r.statusText) + (lines.length ? " — " + lines.join("; ") : "");
      } else if (mine === latest) {
        show(data);
      }
    } catch (e) {
      status.textContent = "cannot reach the server";
    } finally {
      busy = false;
      if (queued !== null) { const d = queued; queued = null; ask(d); }
    }
  }

  for (const knob of document.querySelectorAll(".knob")) {
    const range = knob.querySelector("input[type=range]");
    const num = knob.querySelector("input.num");
    range.dataset.start = range.value;
    range.addEventListener("input", () => { num.value = range.value; ask(fast); });
    range.addEventListener("change", () => { num.value = range.value; ask(full); });
    num.addEventListener("change", () => { range.value = num.value; num.value = range.value; ask(full); });
  }
  document.getElementById("knobs").addEventListener("submit", (event) => event.preventDefault());
  document.getElementById("reset").addEventListener("click", () => {
    for (const knob of document.querySelectorAll(".knob")) {
      const range = knob.querySelector("input[type=range]");
      range.value = range.dataset.start;
      knob.querySelector("input.num").value = knob.dataset.base;
    }
    ask(full);
  });
  record.addEventListener("click", async () => {
    record.disabled = true;
    status.textContent = "recording…";
    const r = await fetch("/api/whatif/record", {
      method: "POST", headers: { "content-type": "application/json", "x-standoff": "1" },
      body: JSON.stringify({ case: caseId, draws: full, seed: seed, set: moved() }),
    });
    const data = await r.json();
    status.textContent = r.ok ? "recorded as ledger record " + data.record : "not recorded: " + (data.detail || r.statusText);
    record.disabled = false;
  });
  ask(full);
})();
