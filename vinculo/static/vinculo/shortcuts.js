// Keyboard shortcuts of every signed-in page, and the small behaviours of the lists' inline edit.
//   /  focuses the page's own search box ([data-shortcut-search]), else the top bar's search
//   c  opens the create page of the current list (the link marked data-shortcut="create")
//   ?  shows the dialog listing the shortcuts (#shortcuts-dialog)
// Keys typed in a field, or pressed with Ctrl, Alt or Meta, are left alone; a key whose action the
// page does not have does nothing.
(() => {
  const typing = (el) =>
    el && (el.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(el.tagName));
  let opener = null;

  function search() {
    const box = document.querySelector("[data-shortcut-search]") || document.getElementById("global-search");
    if (!box) return false;
    box.focus(); // a box in a collapsed menu (narrow screens) cannot take the focus: nothing happens
    if (document.activeElement !== box) return false;
    if (box.select) box.select();
    return true;
  }

  function create() {
    const link = document.querySelector('[data-shortcut="create"]');
    if (!link || !link.href) return false;
    window.location.assign(link.href);
    return true;
  }

  function help() {
    const dialog = document.getElementById("shortcuts-dialog");
    if (!dialog || dialog.open) return false;
    opener = document.activeElement;
    dialog.showModal();
    return true;
  }

  document.addEventListener("keydown", (e) => {
    if (e.defaultPrevented || e.ctrlKey || e.altKey || e.metaKey || typing(e.target)) return;
    if (document.querySelector("dialog[open]") && e.key !== "Escape") return;
    const actions = { "/": search, c: create, "?": help };
    const action = actions[e.key];
    if (action && action()) e.preventDefault();
  });

  document.addEventListener("DOMContentLoaded", () => {
    const dialog = document.getElementById("shortcuts-dialog");
    if (dialog) {
      dialog.addEventListener("close", () => {
        if (opener && opener.focus) opener.focus();
        opener = null;
      });
      dialog.querySelectorAll("[data-close-dialog]").forEach((b) => b.addEventListener("click", () => dialog.close()));
    }
  });

  // an inline editor swapped into a list cell takes the focus, so that the keyboard can use it
  document.addEventListener("htmx:load", (e) => {
    const root = e.detail.elt;
    const field = root && root.querySelector ? root.querySelector("[data-autofocus]") : null;
    if (field) field.focus();
  });
})();
