// The deal board: drag and drop between and within columns (SortableJS), a "Move to…" menu for
// keyboards and phones, and a lost-reason question when a card enters a lost stage.
// Every move is POSTed at once; the answer carries the columns' new summaries. When the server
// refuses (403, 404, 422) or cannot be reached, the card goes back where it was and a message says why.
(() => {
  "use strict";

  function csrfToken() {
    try {
      return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || "";
    } catch (e) {
      return "";
    }
  }

  function boardOf(el) {
    return el.closest("[data-board]") || document.querySelector("[data-board]");
  }

  function showAlert(text, kind) {
    window.vinculoToast(text, kind || "danger", document.getElementById("board-alerts"));
  }

  // where a card was before a move, to put it back
  function placeOf(card) {
    return { list: card.parentElement, next: card.nextElementSibling };
  }

  function putBack(card, place) {
    if (!place || !place.list) return;
    if (place.next && place.next.parentElement === place.list) place.list.insertBefore(card, place.next);
    else place.list.insertBefore(card, place.list.querySelector("[data-board-more]"));
  }

  function beforeId(card) {
    let next = card.nextElementSibling;
    while (next && !next.matches("[data-deal-id]")) next = next.nextElementSibling;
    return next ? next.dataset.dealId : "";
  }

  async function sendMove(card, place, stageId, before, lostReason) {
    const board = boardOf(card);
    const url = board.dataset.moveUrl.replace(/\/0\/move\/$/, `/${card.dataset.dealId}/move/`);
    const body = new FormData();
    body.append("stage", stageId);
    body.append("before", before || "");
    if (lostReason) body.append("lost_reason", lostReason);
    body.append("filters", board.dataset.filters || "");
    card.classList.add("is-moving");
    card.setAttribute("aria-busy", "true");
    let response;
    try {
      response = await fetch(url, {
        method: "POST",
        body,
        credentials: "same-origin",
        headers: { "X-CSRFToken": csrfToken(), Accept: "application/json" },
      });
    } catch (e) {
      putBack(card, place);
      showAlert(board.dataset.msgNetwork);
      return;
    } finally {
      card.classList.remove("is-moving");
      card.removeAttribute("aria-busy");
    }
    let data = null;
    if ((response.headers.get("Content-Type") || "").includes("application/json")) {
      try {
        data = await response.json();
      } catch (e) {
        data = null;
      }
    }
    if (!response.ok) {
      putBack(card, place);
      let message = data && data.detail;
      if (!message && response.status === 404) message = board.dataset.msgNotfound;
      if (!message && response.status === 403) message = board.dataset.msgForbidden;
      showAlert(message || board.dataset.msgError);
      return;
    }
    Object.entries((data && data.columns) || {}).forEach(([stage, html]) => {
      const summary = document.getElementById(`column-summary-${stage}`);
      if (summary) summary.outerHTML = html;
    });
    card.dataset.stageId = String(stageId);
    card.classList.remove("is-stale");
    card.querySelector(".badge.text-bg-warning")?.remove();
    if (data && data.detail) showAlert(data.detail, "success");
  }

  // --- the lost-reason question ----------------------------------------------------------------

  let pendingLost = null; // {card, place, stageId, before}

  function askLostReason(card, place, stageId, before) {
    const modalEl = document.getElementById("lost-modal");
    if (!modalEl || !window.bootstrap) {
      sendMove(card, place, stageId, before, "");
      return;
    }
    pendingLost = { card, place, stageId, before };
    modalEl.querySelector("[data-lost-deal-title]").textContent = card.dataset.title || "";
    modalEl.querySelector("select").value = "";
    bootstrap.Modal.getOrCreateInstance(modalEl).show();
  }

  function cancelLost() {
    const modalEl = document.getElementById("lost-modal");
    if (pendingLost) putBack(pendingLost.card, pendingLost.place);
    pendingLost = null;
    if (modalEl && window.bootstrap) bootstrap.Modal.getOrCreateInstance(modalEl).hide();
  }

  document.addEventListener("submit", (e) => {
    const lostForm = e.target.closest("[data-lost-form]");
    if (lostForm) {
      e.preventDefault();
      const pending = pendingLost;
      pendingLost = null;
      bootstrap.Modal.getOrCreateInstance(document.getElementById("lost-modal")).hide();
      if (pending) sendMove(pending.card, pending.place, pending.stageId, pending.before, lostForm.querySelector("select").value);
      return;
    }
    const moveForm = e.target.closest("[data-move-form]");
    if (moveForm) {
      e.preventDefault();
      const card = document.getElementById(`deal-card-${moveForm.dataset.dealId}`);
      const modalEl = document.getElementById("move-modal");
      bootstrap.Modal.getOrCreateInstance(modalEl).hide();
      if (!card) return;
      const stageId = moveForm.querySelector("[data-move-stage]").value;
      const target = document.querySelector(`[data-cards][data-stage-id="${stageId}"]`);
      if (!target || stageId === card.closest("[data-cards]").dataset.stageId) return;
      const place = placeOf(card);
      target.insertBefore(card, target.querySelector("[data-board-more]"));
      const reason = moveForm.querySelector("[name=lost_reason]").value;
      sendMove(card, place, stageId, "", reason);
      card.querySelector("[data-move-menu]")?.focus();
    }
  });

  document.addEventListener("click", (e) => {
    if (e.target.closest("[data-lost-cancel]")) {
      cancelLost();
      return;
    }
    const menu = e.target.closest("[data-move-menu]");
    if (!menu || !window.bootstrap) return;
    const card = menu.closest("[data-deal-id]");
    const modalEl = document.getElementById("move-modal");
    if (!card || !modalEl) return;
    const form = modalEl.querySelector("[data-move-form]");
    form.dataset.dealId = card.dataset.dealId;
    modalEl.querySelector("[data-move-deal-title]").textContent = card.dataset.title || "";
    const select = modalEl.querySelector("[data-move-stage]");
    select.value = card.closest("[data-cards]").dataset.stageId;
    showLostChoice(select);
    bootstrap.Modal.getOrCreateInstance(modalEl).show();
  });

  function showLostChoice(select) {
    const option = select.options[select.selectedIndex];
    const lost = select.closest("form").querySelector("[data-move-lost]");
    if (lost) lost.hidden = !option || option.dataset.kind !== "lost";
  }

  document.addEventListener("change", (e) => {
    if (e.target.matches("[data-move-stage]")) showLostChoice(e.target);
  });

  // --- drag and drop -----------------------------------------------------------------------------

  function initBoard(root) {
    if (!window.Sortable) return;
    root.querySelectorAll("[data-cards]").forEach((list) => {
      if (list.dataset.sortable) return;
      list.dataset.sortable = "1";
      Sortable.create(list, {
        group: "deals",
        draggable: ".deal-card",
        animation: 150,
        delay: 200,
        delayOnTouchOnly: true,
        ghostClass: "deal-card-ghost",
        chosenClass: "deal-card-chosen",
        disabled: !document.getElementById("move-modal"), // read-only roles have no move menu
        onStart(evt) {
          evt.item._origin = { list: evt.from, next: evt.item.nextElementSibling };
        },
        onEnd(evt) {
          const card = evt.item;
          const place = card._origin;
          if (evt.from === evt.to && evt.oldIndex === evt.newIndex) return;
          const more = evt.to.querySelector("[data-board-more]");
          if (more && card.compareDocumentPosition(more) & Node.DOCUMENT_POSITION_PRECEDING) {
            evt.to.insertBefore(card, more); // never below "load more"
          }
          const stageId = evt.to.dataset.stageId;
          const column = evt.to.closest("[data-stage-kind]");
          const before = beforeId(card);
          if (evt.from !== evt.to && column && column.dataset.stageKind === "lost") {
            askLostReason(card, place, stageId, before);
          } else {
            sendMove(card, place, stageId, before, "");
          }
        },
      });
    });
  }

  document.addEventListener("DOMContentLoaded", () => initBoard(document));
  document.addEventListener("htmx:afterSettle", (e) => initBoard(e.target));
  document.addEventListener("hidden.bs.modal", (e) => {
    if (e.target.id === "lost-modal" && pendingLost) {
      putBack(pendingLost.card, pendingLost.place);
      pendingLost = null;
    }
  });
})();
