// Small behaviours shared by every page; no build step.
document.addEventListener("DOMContentLoaded", () => {
  // "select all" checkbox of bulk-action tables
  document.body.addEventListener("change", (e) => {
    const t = e.target;
    if (t.matches("[data-select-all]")) {
      document.querySelectorAll(t.dataset.selectAll).forEach((box) => { box.checked = t.checked; });
    }
  });
});
