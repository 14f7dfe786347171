// Small behaviours shared by every page; no build step. The Content-Security-Policy allows no
// inline code and no style attributes in the HTML: what needs either is done here (and htmx runs
// with allowEval off and without its own <style>: the htmx-config meta tag of base.html).

// A short message after something done in the page without reloading it (a card moved, an activity
// rescheduled, a refused request): shown in `box`, a live region in the page's flow (by default
// #page-toasts, under the navigation bar), so that it never covers a control, and announced by
// screen readers (role status, or alert for errors). The newest comes first, at most three are
// kept; each has a close button (labelled by the box's data-msg-close) and goes by itself after
// 4 seconds (an error after 12).
window.vinculoToast = (text, kind = "danger", box = document.getElementById("page-toasts")) => {
  if (!box || !text) return null;
  const alert = document.createElement("div");
  alert.className = `alert alert-${kind} alert-dismissible fade show py-2 mb-2`;
  alert.setAttribute("role", kind === "success" ? "status" : "alert");
  alert.textContent = text;
  const close = document.createElement("button");
  close.type = "button";
  close.className = "btn-close";
  close.setAttribute("aria-label", box.dataset.msgClose || "Close");
  close.addEventListener("click", () => alert.remove());
  alert.append(close);
  box.prepend(alert);
  [...box.children].slice(3).forEach((old) => old.remove());
  setTimeout(() => alert.remove(), kind === "success" ? 4000 : 12000);
  return alert;
};

// htmx swaps 422 answers too: they carry a form with its errors next to the fields.
if (window.htmx) {
  htmx.config.responseHandling = [
    { code: "204", swap: false },
    { code: "[23]..", swap: true },
    { code: "422", swap: true },
    { code: "[45]..", swap: false, error: true },
  ];
}

// For the page and for every piece of it htmx swaps in (htmx:load): tag badges take their tag's
// colour from data-tag-color (a #rrggbb the server checked; set through element.style, which the
// policy allows), and a search box marked data-no-change-bubble keeps its change event from the
// filters' form around it (it searches as you type; the form's "change" would search again when
// the box loses focus).
(() => {
  const within = (root, selector) => [
    ...(root.matches && root.matches(selector) ? [root] : []),
    ...(root.querySelectorAll ? root.querySelectorAll(selector) : []),
  ];
  const stopBubbling = (e) => e.stopPropagation();
  function enhance(root) {
    within(root, "[data-tag-color]").forEach((badge) => {
      badge.style.backgroundColor = badge.dataset.tagColor;
    });
    // the same listener twice is added once
    within(root, "[data-no-change-bubble]").forEach((input) => input.addEventListener("change", stopBubbling));
  }
  enhance(document); // deferred: the document is parsed
  document.addEventListener("htmx:load", (e) => enhance(e.detail.elt || e.target));
})();

document.addEventListener("DOMContentLoaded", () => {
  const body = document.body;

  // "select all" checkbox of bulk-action tables
  body.addEventListener("change", (e) => {
    const t = e.target;
    if (t.matches("[data-select-all]")) {
      document.querySelectorAll(t.dataset.selectAll).forEach((box) => { box.checked = t.checked; });
    }
    if (t.matches("[data-bulk-action]")) showBulkInputs(t);
  });

  // bulk bar: show the owner select or the tag input only for the actions that use them
  function showBulkInputs(select) {
    const form = select.closest("form");
    form.querySelectorAll("[data-bulk-for]").forEach((el) => {
      el.hidden = !el.dataset.bulkFor.split(" ").includes(select.value);
    });
  }
  document.querySelectorAll("[data-bulk-action]").forEach(showBulkInputs);

  // "add another" under repeated inputs (e-mails, phones): copy the last row, emptied
  body.addEventListener("click", (e) => {
    const button = e.target.closest("[data-repeat-add]");
    if (!button) return;
    const rows = button.closest("[data-repeat]").querySelectorAll("[data-repeat-row]");
    const last = rows[rows.length - 1];
    const copy = last.cloneNode(true);
    copy.querySelectorAll("input").forEach((input) => {
      input.value = "";
      input.removeAttribute("id");
      input.classList.remove("is-invalid");
      input.removeAttribute("aria-invalid");
    });
    copy.querySelectorAll("select").forEach((select) => { select.selectedIndex = 0; });
    last.after(copy);
    copy.querySelector("input")?.focus();
  });

  // Enter in a helper search box (e.g. the company search of a form) must not submit the form
  body.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && e.target.matches("[data-no-submit]")) e.preventDefault();
  });

  // filter forms send only the filters that are set, so that pushed URLs stay short
  body.addEventListener("htmx:configRequest", (e) => {
    const source = e.detail.elt;
    if (!source.closest("[data-drop-empty]") && !source.matches("[hx-include='#filters']")) return;
    const params = e.detail.parameters;
    for (const key of Array.from(params.keys ? params.keys() : Object.keys(params))) {
      if (params.get ? params.get(key) === "" : params[key] === "") {
        params.delete ? params.delete(key) : delete params[key];
      }
    }
  });

  // an htmx request refused (403) or failed: say so above the page instead of doing nothing
  body.addEventListener("htmx:responseError", (e) => {
    const xhr = e.detail.xhr;
    const type = xhr.getResponseHeader("Content-Type") || "";
    if (type.startsWith("text/plain")) window.vinculoToast(xhr.responseText);
  });

  // a dialog gives the focus back to what opened it when it closes, however it was opened (Bootstrap
  // does so only for its own data-bs-toggle buttons)
  const openers = new WeakMap();
  document.addEventListener("show.bs.modal", (e) => {
    const active = document.activeElement;
    if (active && active !== document.body && !e.target.contains(active)) openers.set(e.target, active);
  });
  document.addEventListener("hidden.bs.modal", (e) => {
    const opener = openers.get(e.target);
    openers.delete(e.target);
    if (opener && opener.isConnected && !e.target.contains(document.activeElement)) opener.focus();
  });
});
