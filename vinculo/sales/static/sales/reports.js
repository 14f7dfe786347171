// Charts of the sales reports (forecast, effectiveness): each <canvas data-report-chart="ID"> is
// drawn from the JSON in <script id="ID" type="application/json"> (Django's json_script), and
// redrawn after HTMX swaps the report in. No inline script: CSP-friendly. Amounts on the axis and
// in the tooltips are written as the table beside the chart writes them (the separators of the
// page's language, sent in `number_format`), not in the browser's own locale.
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

  // 11250 → "11,250.00" (en) or "11 250,00" (es): grouped by three, `decimals` fixed
  function formatNumber(value, format, decimals) {
    const fixed = Math.abs(value).toFixed(decimals);
    const [whole, fraction] = fixed.split(".");
    const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, format.thousands);
    const sign = value < 0 && Number(fixed) !== 0 ? "-" : "";
    return sign + grouped + (fraction ? format.decimal + fraction : "");
  }

  function formatters(spec) {
    const format = spec.number_format || { decimal: ".", thousands: ",", decimals: 2, currency: "" };
    const money = (value) => `${formatNumber(value, format, format.decimals)}${format.currency ? ` ${format.currency}` : ""}`;
    const tick = (value) => formatNumber(value, format, Number.isInteger(value) ? 0 : format.decimals);
    const percent = (value) => `${formatNumber(value, format, Number.isInteger(value) ? 0 : 1)} %`;
    return { money, tick, percent };
  }

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
    const fmt = formatters(spec);
    const scales = {
      y: { beginAtZero: true, title: { display: true, text: spec.currency }, ticks: { callback: fmt.tick } },
    };
    if (datasets.some((d) => d.yAxisID === "percent")) {
      scales.percent = {
        beginAtZero: true, max: 100, position: "right", grid: { drawOnChartArea: false },
        title: { display: true, text: "%" }, ticks: { callback: fmt.tick },
      };
    }
    const label = (context) => {
      const value = context.parsed.y;
      if (value === null || value === undefined) return `${context.dataset.label}: —`;
      const text = context.dataset.yAxisID === "percent" ? fmt.percent(value) : fmt.money(value);
      return `${context.dataset.label}: ${text}`;
    };
    canvas._chart = new window.Chart(canvas, {
      type: "bar",
      data: { labels: spec.labels, datasets },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        locale: document.documentElement.lang || undefined,
        interaction: { mode: "index", intersect: false },
        scales,
        plugins: { legend: { position: "bottom" }, tooltip: { callbacks: { label } } },
      },
    });
  }

  function drawAll(root) {
    root.querySelectorAll("canvas[data-report-chart]").forEach(draw);
  }

  document.addEventListener("DOMContentLoaded", () => drawAll(document));
  document.addEventListener("htmx:afterSettle", (event) => drawAll(event.target));
})();
