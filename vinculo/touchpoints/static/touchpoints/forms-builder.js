/* The web form builder: drag a field by its handle to reorder (SortableJS); the builder is then
 * redrawn by the server in the new order (HTMX), like the up/down buttons do without dragging. */
(function () {
  "use strict";

  function setup() {
    var list = document.getElementById("field-rows");
    if (!list || list.getAttribute("data-sortable") || typeof Sortable === "undefined" || typeof htmx === "undefined") return;
    list.setAttribute("data-sortable", "1");
    Sortable.create(list, {
      handle: ".drag-handle",
      animation: 150,
      forceFallback: true, // pointer events, the same with a mouse, a finger or a test driver
      fallbackOnBody: true, // the dragged copy stays out of the form (and of the live preview)
      onEnd: function (event) {
        if (event.oldIndex === event.newIndex) return;
        var order = Array.prototype.map.call(list.querySelectorAll(".field-row"), function (row) {
          return row.getAttribute("data-index");
        });
        htmx.ajax("POST", list.getAttribute("data-builder-url"), {
          source: "#builder-form",
          target: "#builder-rows",
          swap: "outerHTML",
          values: { action: "order_field:" + order.join(",") }
        });
      }
    });
  }

  document.addEventListener("DOMContentLoaded", setup);
  document.addEventListener("htmx:afterSettle", setup);
})();
