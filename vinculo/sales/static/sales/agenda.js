// The agenda page: copy the calendar link, and pickers that apply on change. No inline handlers.
document.addEventListener("DOMContentLoaded", () => {
  document.body.addEventListener("click", async (e) => {
    const button = e.target.closest("[data-copy]");
    if (!button) return;
    const input = document.querySelector(button.dataset.copy);
    if (!input) return;
    input.select();
    try {
      await navigator.clipboard.writeText(input.value);
    } catch {
      document.execCommand("copy"); // older browsers, or a page not served over https
    }
    const label = button.dataset.copied;
    if (label) {
      const before = button.innerHTML;
      button.textContent = label;
      setTimeout(() => { button.innerHTML = before; }, 1500);
    }
  });

  // choosing a member clears the team (and the reverse), then shows that agenda
  document.body.addEventListener("change", (e) => {
    const select = e.target.closest("[data-auto-submit]");
    if (!select) return;
    const form = select.form;
    form.querySelectorAll("[data-auto-submit]").forEach((other) => {
      if (other !== select) other.value = "";
    });
    form.requestSubmit();
  });
});
