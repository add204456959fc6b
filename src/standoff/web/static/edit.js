// The case editor: checks the text as the author types (POST /api/check, debounced), marks each
// problem at its line, and saves (PUT /api/cases/ID) only a text that passes, naming the version
// it was opened at (a save refused because the case changed since says so).
(function () {
  "use strict";
  const LINE = 20;
  const editor = document.getElementById("editor");
  const text = document.getElementById("text");
  const gutter = document.getElementById("gutter");
  const marks = document.getElementById("marks");
  const list = document.getElementById("problems");
  const state = document.getElementById("state");
  const save = document.getElementById("save");
  const saved = document.getElementById("saved");
  const caseId = editor.dataset.case;
  const file = editor.dataset.file;
  const writable = editor.dataset.writable === "true";
  let version = editor.dataset.version || null;  // the version this text was opened at
  let found = [];   // [{line, field, message, warn}]
  let asked = 0;    // the number of the latest check sent
  let timer = null;
  let valid = false;

  function lines() { return text.value.split("\n").length; }

  function drawGutter() {
    const bad = new Map();
    for (const p of found) if (!bad.has(p.line)) bad.set(p.line, p);
    gutter.replaceChildren();
    const n = lines();
    for (let i = 1; i <= n; i++) {
      const d = document.createElement("div");
      d.textContent = String(i);
      const p = bad.get(i);
      if (p) { d.className = "err"; d.title = p.field + ": " + p.message; d.dataset.line = String(i); }
      gutter.appendChild(d);
    }
    sync();
  }

  function drawMarks() {
    marks.replaceChildren();
    for (const p of found) {
      const m = document.createElement("div");
      m.className = p.warn ? "mark warn" : "mark";
      m.dataset.line = String(p.line);
      m.style.top = (8 + (p.line - 1) * LINE) + "px";
      m.textContent = p.field + ": " + p.message;
      marks.appendChild(m);
    }
    sync();
  }

  function sync() {
    gutter.scrollTop = text.scrollTop;
    marks.style.transform = "translate(" + (-text.scrollLeft) + "px," + (-text.scrollTop) + "px)";
  }

  function goTo(line) {
    const all = text.value.split("\n");
    let at = 0;
    for (let i = 0; i < line - 1 && i < all.length; i++) at += all[i].length + 1;
    text.focus();
    text.setSelectionRange(at, at + (all[line - 1] || "").length);
    text.scrollTop = Math.max(0, (line - 5) * LINE);
    sync();
  }

  function drawList() {
    list.replaceChildren();
    for (const p of found) {
      const li = window.standoffProblems.item(p, "line " + p.line, p.warn ? "warning: " : "");
      if (p.warn) li.className = "warn";
      li.dataset.line = String(p.line);
      li.addEventListener("click", () => goTo(p.line));
      list.appendChild(li);
    }
  }

  function show(result) {
    const errors = (result.problems || []).map((p) => ({ ...p, warn: false }));
    const warnings = (result.warnings || []).map((p) => ({ ...p, warn: true }));
    found = errors.concat(warnings);
    valid = !!result.ok;
    state.className = "state " + (valid ? "ok" : "bad");
    state.textContent = valid
      ? "valid: " + (result.summary || "") + (warnings.length ? " (" + warnings.length + " warnings)" : "")
      : errors.length + " problem" + (errors.length === 1 ? "" : "s");
    save.disabled = !writable || !valid;
    drawGutter(); drawMarks(); drawList();
  }

  async function check() {
    const mine = ++asked;
    state.className = "state"; state.textContent = "checking…";
    try {
      const r = await fetch("/api/check", {
        method: "POST", headers: { "content-type": "application/json", "x-standoff": "1" },
        body: JSON.stringify({ text: text.value, file: file }),
      });
      const body = await r.json();
      if (mine !== asked) return;
      if (!r.ok) { show({ ok: false, problems: [{ line: 1, field: "(request)", message: body.detail || r.statusText }] }); return; }
      show(body);
    } catch (e) {
      if (mine === asked) { state.className = "state bad"; state.textContent = "cannot reach the server"; }
    }
  }

  text.addEventListener("input", () => {
    save.disabled = true; saved.textContent = "";
    drawGutter();
    clearTimeout(timer);
    timer = setTimeout(check, 300);
  });
  text.addEventListener("scroll", sync);
  text.addEventListener("keydown", (e) => {
    if (e.key === "Tab") { e.preventDefault(); document.execCommand("insertText", false, "  "); }
  });
  save.addEventListener("click", async () => {
    if (!valid || !writable) return;
    save.disabled = true;
    const r = await fetch("/api/cases/" + encodeURIComponent(caseId), {
      method: "PUT", headers: { "content-type": "application/json", "x-standoff": "1" },
      body: JSON.stringify({ text: text.value, base: version }),
    });
    const body = await r.json();
    if (r.ok) {
      version = body.version;
      saved.textContent = "saved; the previous version is kept as " + body.kept;
    }
    else {
      saved.textContent = "not saved: " + (body.detail || r.statusText);
      if (body.problems) show({ ok: false, problems: body.problems });
    }
    save.disabled = !valid;
  });
  drawGutter();
  check();
})();
