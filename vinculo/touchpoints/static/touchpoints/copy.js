/* Copy buttons: <button data-copy-target="ID"> copies the text of the element ID (an install
 * snippet). navigator.clipboard needs a secure page (HTTPS or localhost); elsewhere the text is
 * selected and copied with execCommand, and when even that is refused it stays selected with a
 * hint to press Ctrl+C. The outcome is announced in the box's status region. */
(function () {
  "use strict";

  function announce(button, text) {
    var box = button.closest(".snippet-box");
    var status = box && box.querySelector(".copy-status");
    if (status) status.textContent = text;
    var label = button.querySelector(".copy-label");
    if (!label) return;
    if (!button.dataset.label) button.dataset.label = label.textContent;
    label.textContent = text;
    clearTimeout(button._copyTimer);
    button._copyTimer = setTimeout(function () { label.textContent = button.dataset.label; }, 2500);
  }

  function selectAll(field) {
    field.focus();
    if (field.select) field.select();
  }

  function fallback(button, field) {
    selectAll(field);
    var copied = false;
    try { copied = document.execCommand("copy"); } catch (e) { copied = false; }
    announce(button, copied ? button.dataset.copiedLabel : button.dataset.manualLabel);
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy-target]");
    if (!button) return;
    var field = document.getElementById(button.dataset.copyTarget);
    if (!field) return;
    var text = field.value !== undefined ? field.value : field.textContent;
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(
        function () { announce(button, button.dataset.copiedLabel); },
        function () { fallback(button, field); }
      );
    } else {
      fallback(button, field);
    }
  });
})();
