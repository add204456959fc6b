// Run: starts a full forecast (POST /api/runs), shows its progress, then the report.
(function () {
  "use strict";
  const form = document.getElementById("run");
  const caseId = form.dataset.case;
  const bar = document.getElementById("progress");
  const fill = document.getElementById("fill");
  const stage = document.getElementById("stage");
  const list = document.getElementById("problems");
  const downloads = document.getElementById("downloads");
  const frame = document.getElementById("report");
  const go = document.getElementById("go");
  const record = document.getElementById("record");
  const recorded = document.getElementById("recorded");
  let finished = null;  // the id of the latest finished run

  function problems(items, message) {
    window.standoffProblems.fill(list, items, message);
  }

  async function poll(id) {
    const r = await fetch("/api/runs/" + encodeURIComponent(id));
    const job = await r.json();
    if (!r.ok) { problems([], job.detail || r.statusText); go.disabled = false; return; }
    const share = job.total ? job.done / job.total : 0;
    fill.style.width = (100 * share).toFixed(1) + "%";
    stage.textContent = job.state + (job.stage ? ": " + job.stage + " " + job.done + "/" + job.total : "") + " · " + job.elapsed + " s";
    if (job.state === "done") {
      finished = id;
      record.disabled = false; recorded.textContent = "";
      const base = "/api/runs/" + encodeURIComponent(id);
      document.getElementById("dl-json").href = base + "/forecast.json";
      document.getElementById("dl-html").href = base + "/report.html?download=true";
      document.getElementById("dl-md").href = base + "/report.md";
      downloads.hidden = false;
      frame.hidden = false;
      frame.src = base + "/report.html";
      go.disabled = false;
    } else if (job.state === "failed") {
      problems(job.problems, job.message);
      go.disabled = false;
    } else {
      setTimeout(() => poll(id), 300);
    }
  }

  record.addEventListener("click", async () => {
    if (!finished) return;
    record.disabled = true;
    const r = await fetch("/api/runs/" + encodeURIComponent(finished) + "/record", {
      method: "POST", headers: { "x-standoff": "1" },
    });
    const data = await r.json();
    recorded.textContent = r.ok ? "recorded as ledger record " + data.record : "not recorded: " + (data.detail || r.statusText);
  });

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    go.disabled = true; list.replaceChildren(); downloads.hidden = true; frame.hidden = true;
    bar.hidden = false; fill.style.width = "0"; stage.textContent = "starting…";
    const r = await fetch("/api/runs", {
      method: "POST", headers: { "content-type": "application/json", "x-standoff": "1" },
      body: JSON.stringify({ case: caseId, draws: Number(document.getElementById("draws").value),
                             seed: Number(document.getElementById("seed").value) }),
    });
    const job = await r.json();
    if (!r.ok) {
      bar.hidden = true;
      problems(job.problems || [], job.problems ? "" : (job.detail || r.statusText));
      go.disabled = false;
      return;
    }
    poll(job.id);
  });
})();
