// Cases: the New case form creates a case (POST /api/cases, with the header every change of the
// workspace carries) from the minimal template or a copy, then opens it in the editor; a refusal
// (an id taken, a case to copy with problems) is shown beside the form.
(function () {
  "use strict";
  const form = document.getElementById("new");
  const id = document.getElementById("new-id");
  const from = document.getElementById("new-from");
  const state = document.getElementById("new-state");
  const list = document.getElementById("new-problems");
  const create = document.getElementById("create");

  function show(message, problems) {
    state.textContent = message;
    state.className = "state bad";
    window.standoffProblems.fill(list, problems);
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const ident = id.value.trim();
    if (!ident) { show("give the new case an id"); return; }
    create.disabled = true;
    state.className = "muted";
    state.textContent = "creating " + ident + "…";
    list.replaceChildren();
    try {
      const r = await fetch("/api/cases", {
        method: "POST",
        headers: { "content-type": "application/json", "x-standoff": "1" },
        body: JSON.stringify({ id: ident, copy_of: from.value }),
      });
      const answer = await r.json().catch(() => ({}));
      if (r.status === 201) {
        state.className = "state ok";
        state.textContent = "created " + answer.file;
        window.location.assign("/cases/" + encodeURIComponent(answer.id) + "/edit");
        return;
      }
      const detail = typeof answer.detail === "string" ? answer.detail : (r.statusText || "refused");
      show("not created: " + detail, answer.problems);
    } catch (e) {
      show("not created: " + e);
    }
    create.disabled = false;
  });
})();
