// Charts of the sales reports (forecast, effectiveness): each <canvas data-report-chart="ID"> is
// drawn from the JSON in <script id="ID" type="application/json"> (Django's json_script), and
// redrawn after HTMX swaps the report in. No inline script: CSP-friendly.
(() => {
  "use strict";

  const COLOURS = {
    won: "#198754",
    commit: "#0d6efd",
    best_case: "#6ea8fe",
    weighted: "#ffc107",
    quota: "#dc3545",
    revenue: "#198754",
    win_rate: "#0d6efd",
  };

  const number = (value) => (value === null || value === undefined ? null : Number(value));

  function dataset(series) {
    const colour = COLOURS[series.key] || "#6c757d";
    const line = series.kind === "line";
    return {
      type: line ? "line" : "bar",
      label: series.label,
      data: series.data.map(number),
      backgroundColor: line ? colour : `${colour}cc`,
      borderColor: colour,
      borderWidth: line ? 2 : 1,
      pointRadius: line ? 3 : 0,
      spanGaps: true,
      yAxisID: series.axis === "percent" ? "percent" : "y",
      order: line ? 0 : 1,
    };
  }

  function draw(canvas) {
    const source = document.getElementById(canvas.dataset.reportChart);
    if (!source || typeof window.Chart === "undefined") return;
    const spec = JSON.parse(source.textContent);
    if (canvas._chart) canvas._chart.destroy();
    const datasets = spec.series.map(dataset);
    const scales = { y: { beginAtZero: true, title: { display: true, text: spec.currency } } };
    if (datasets.some((d) => d.yAxisID === "percent")) {
      scales.percent = { beginAtZero: true, max: 100, position: "right", grid: { drawOnChartArea: false }, title: { display: true, text: "%" } };
    }
    canvas._chart = new window.Chart(canvas, {
      type: "bar",
      data: { labels: spec.labels, datasets },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        interaction: { mode: "index", intersect: false },
        scales,
        plugins: { legend: { position: "bottom" } },
      },
    });
  }

  function drawAll(root) {
    root.querySelectorAll("canvas[data-report-chart]").forEach(draw);
  }

  document.addEventListener("DOMContentLoaded", () => drawAll(document));
  document.addEventListener("htmx:afterSettle", (event) => drawAll(event.target));
})();
