/* Vínculo web forms embed: renders every <div data-vinculo-form="KEY"> of the host page.
 * Fetches the form (HTML with a signed fill token) from Vínculo, submits it with fetch as JSON,
 * shows field errors next to the fields (422) and the thank-you message. No dependencies. */
(function () {
  "use strict";
  var script = document.currentScript || document.querySelector('script[src*="/f/embed.js"]');
  if (!script) return;
  var base = new URL(script.src, location.href).origin;
  var lang = (document.documentElement.lang || navigator.language || "").slice(0, 2).toLowerCase();

  function text(el, message) {
    var p = document.createElement("p");
    p.className = "vf-message";
    p.setAttribute("role", "status");
    p.textContent = message;
    el.replaceChildren(p);
  }

  function clearErrors(form) {
    form.querySelectorAll(".vf-error, .vf-alert").forEach(function (n) { n.remove(); });
    form.querySelectorAll(".is-invalid").forEach(function (n) {
      n.classList.remove("is-invalid");
      n.removeAttribute("aria-invalid");
    });
  }

  function showErrors(form, body) {
    var alert = document.createElement("div");
    alert.className = "alert alert-danger vf-alert";
    alert.setAttribute("role", "alert");
    alert.textContent = body.detail || "";
    form.prepend(alert);
    (body.errors || []).forEach(function (error) {
      var input = form.querySelector('[name="' + CSS.escape(error.field) + '"]');
      var note = document.createElement("div");
      note.className = "invalid-feedback vf-error";
      note.style.display = "block";
      note.textContent = error.message;
      if (!input) { alert.appendChild(note); return; }
      input.classList.add("is-invalid");
      input.setAttribute("aria-invalid", "true");
      (input.closest(".form-check") || input.parentNode).appendChild(note);
    });
    var first = form.querySelector(".is-invalid");
    if (first) first.focus();
  }

  function values(form) {
    var data = {};
    new FormData(form).forEach(function (value, name) { data[name] = value; });
    data._page = location.href;
    data._lang = lang;
    return data;
  }

  function mount(el) {
    var key = el.getAttribute("data-vinculo-form");
    if (!key || el.getAttribute("data-vinculo-ready")) return;
    el.setAttribute("data-vinculo-ready", "1");
    var url = base + "/f/" + encodeURIComponent(key) + "/embed?lang=" + encodeURIComponent(lang);
    fetch(url, { credentials: "omit" })
      .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
      .then(function (spec) {
        el.innerHTML = spec.html;
        var form = el.querySelector("form");
        // the honeypot leaves the screen whatever the host page's stylesheets (set through
        // element.style, which a Content-Security-Policy without 'unsafe-inline' still allows)
        var trap = form.querySelector(".vf-hp");
        if (trap) {
          trap.style.position = "absolute";
          trap.style.left = "-10000px";
          trap.style.top = "auto";
          trap.style.width = "1px";
          trap.style.height = "1px";
          trap.style.overflow = "hidden";
        }
        form.addEventListener("submit", function (event) {
          event.preventDefault();
          var button = form.querySelector("[type=submit]");
          button.disabled = true;
          clearErrors(form);
          fetch(spec.action + "?lang=" + encodeURIComponent(lang), {
            method: "POST",
            credentials: "omit",
            headers: { "Content-Type": "application/json", "Accept": "application/json" },
            body: JSON.stringify(values(form))
          })
            .then(function (r) { return r.json().then(function (body) { return { status: r.status, body: body }; }); })
            .then(function (res) {
              button.disabled = false;
              if (res.status === 200) {
                if (res.body.redirect_url) { location.href = res.body.redirect_url; return; }
                text(el, res.body.detail || spec.success_message);
              } else {
                showErrors(form, res.body);
              }
            })
            .catch(function () { button.disabled = false; showErrors(form, { detail: spec.network_error }); });
        });
      })
      .catch(function () { el.setAttribute("data-vinculo-error", "1"); });
  }

  function mountAll() { document.querySelectorAll("[data-vinculo-form]").forEach(mount); }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", mountAll);
  else mountAll();
})();
