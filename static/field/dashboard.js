/*
 * The officials' dashboard: draws the weekly progress chart (Chart.js, served by
 * Django from node_modules) from #dashboard-data, which holds Mondays and counts
 * only. A withheld week is null: the line breaks there instead of drawing a guess.
 * Changing a filter reloads the page, so a link or a print shows the same view.
 */
(function () {
  "use strict";

  const data = JSON.parse(document.getElementById("dashboard-data").textContent);
  const canvas = document.getElementById("dashboard-chart");
  const english = document.documentElement.lang.startsWith("en");
  // Colour-blind safe (Okabe-Ito), and told apart in print by dash as well.
  const STYLE = {
    new_cases: { color: "#0072b2", dash: [] },
    visits: { color: "#e69f00", dash: [6, 3] },
    resolutions: { color: "#009e73", dash: [2, 2] },
  };

  document.querySelectorAll("#dashboard-filters select").forEach(function (select) {
    select.addEventListener("change", function () {
      select.form.requestSubmit();
    });
  });

  // On paper the exact weekly counts go with the chart; a closed <details> would hide them.
  const weekly = document.querySelector(".weekly-table");
  let wasOpen = false;
  window.addEventListener("beforeprint", function () {
    if (weekly) {
      wasOpen = weekly.open;
      weekly.open = true;
    }
  });
  window.addEventListener("afterprint", function () {
    if (weekly) {
      weekly.open = wasOpen;
    }
  });

  if (!canvas || typeof Chart === "undefined" || !data.weeks.length) {
    return;
  }
  const format = new Intl.DateTimeFormat(english ? "en-GB" : "th-TH", {
    day: "numeric",
    month: "short",
  });
  const labels = data.weeks.map(function (iso) {
    return format.format(new Date(iso + "T00:00:00"));
  });
  const chart = new Chart(canvas, {
    type: "line",
    data: {
      labels: labels,
      datasets: data.series.map(function (series) {
        const style = STYLE[series.key] || { color: "#52606d", dash: [] };
        return {
          label: series.label,
          data: series.values,
          borderColor: style.color,
          backgroundColor: style.color,
          borderDash: style.dash,
          pointRadius: 2,
          spanGaps: false,
          tension: 0,
        };
      }),
    },
    options: {
      // Drawn at once: a print or a screenshot taken early must not catch it half-way.
      animation: false,
      responsive: true,
      maintainAspectRatio: false,
      interaction: { mode: "index", intersect: false },
      scales: {
        y: { beginAtZero: true, ticks: { precision: 0 } },
        x: { ticks: { maxRotation: 0, autoSkipPadding: 12 } },
      },
      plugins: { legend: { position: "bottom" } },
    },
  });
  canvas.dataset.drawn = "true";

  // The print layout is narrower than the screen: redraw at its size before printing.
  window.addEventListener("beforeprint", function () {
    chart.resize();
  });
  window.addEventListener("afterprint", function () {
    chart.resize();
  });
})();
