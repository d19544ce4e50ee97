/*
 * The import pages.
 *
 * On the upload form, the affiliation is asked only for an enrolment register
 * (the only kind that has one). On a run's page, the progress is fetched every
 * second until the run has finished, then the page reloads to show the report,
 * which is rendered by the server.
 */
(function () {
  "use strict";

  const POLL_MS = 1000;

  const form = document.getElementById("import-form");
  if (form) {
    const kind = form.elements.kind;
    const affiliation = document.getElementById("affiliation-field");
    const sync = function () {
      const enrolment = kind.value === "enrolment";
      affiliation.hidden = !enrolment;
      form.elements.affiliation.required = enrolment;
    };
    kind.addEventListener("change", sync);
    sync();
  }

  const dataNode = document.getElementById("import-data");
  if (!dataNode) return;
  const data = JSON.parse(dataNode.textContent);
  if (data.finished) return;

  const bar = document.getElementById("run-progress");
  const progressBox = bar ? bar.parentElement : null;
  const rows = document.getElementById("run-rows");
  const statusLabel = document.getElementById("run-status-label");

  function show(progress) {
    if (bar) bar.style.width = progress.percent + "%";
    if (progressBox) progressBox.setAttribute("aria-valuenow", String(progress.percent));
    rows.textContent = String(progress.rowsRead);
    statusLabel.textContent = progress.statusLabel;
    statusLabel.className = "status status-" + progress.status;
    for (const [name, value] of Object.entries(progress.counts)) {
      const cell = document.querySelector('[data-count="' + name + '"]');
      if (!cell) continue;
      cell.textContent = String(value);
      cell.parentElement.classList.toggle("nonzero", value > 0);
    }
  }

  function poll() {
    fetch(data.progressUrl, { headers: { Accept: "application/json" }, cache: "no-store" })
      .then((response) => (response.ok ? response.json() : Promise.reject(response.status)))
      .then(function (progress) {
        show(progress);
        if (progress.finished) window.location.reload();
        else window.setTimeout(poll, POLL_MS);
      })
      .catch(function (error) {
        // A dropped connection on a weak signal: keep asking, a little slower.
        console.error("progress", error);
        window.setTimeout(poll, POLL_MS * 3);
      });
  }

  window.setTimeout(poll, POLL_MS);
})();
