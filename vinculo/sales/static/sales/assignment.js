// Drag the assignment rules into a new order (SortableJS); the up/down buttons work without it.
// After a drop every rule's id is posted in the new order and the list is replaced by the answer.
(() => {
  "use strict";

  function setUp(root) {
    const list = root.querySelector("#rule-rows[data-reorder-url]");
    if (!list || list._sortable || typeof window.Sortable === "undefined") return;
    list._sortable = window.Sortable.create(list, {
      handle: ".rule-handle",
      animation: 150,
      onEnd: () => {
        const ids = [...list.querySelectorAll("li[data-id]")].map((li) => li.dataset.id);
        window.htmx.ajax("POST", list.dataset.reorderUrl, { target: "#rules", swap: "outerHTML", values: { ids } });
      },
    });
  }

  document.addEventListener("DOMContentLoaded", () => setUp(document));
  document.addEventListener("htmx:afterSettle", () => setUp(document));
})();
