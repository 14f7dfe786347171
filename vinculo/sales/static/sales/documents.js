// Quote and order pages: removing a line row (the totals are then recomputed by the server) and
// the "Print" button of the printable view. Adding a row is HTMX (hx-get of an empty row).
document.addEventListener("DOMContentLoaded", () => {
  document.body.addEventListener("click", (e) => {
    const remove = e.target.closest("[data-remove-line]");
    if (remove) {
      const rows = document.querySelectorAll("[data-line-row]");
      const row = remove.closest("[data-line-row]");
      if (rows.length > 1) {
        row.remove();
      } else {
        // keep one (empty) row to type into
        row.querySelectorAll("input").forEach((input) => { input.value = ""; });
        row.querySelectorAll("select").forEach((select) => { select.selectedIndex = 0; });
      }
      document.body.dispatchEvent(new Event("lines-changed"));
      return;
    }
    if (e.target.closest("[data-print]")) window.print();
  });
});
