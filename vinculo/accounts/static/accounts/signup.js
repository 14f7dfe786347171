// Sign-up: preselect the browser's time zone (the server checks it against its list of zones and
// takes UTC when the field is left on "detect automatically"); "change" tells the time-zone search
// box (picker.js) to show it.
document.addEventListener("DOMContentLoaded", () => {
  const select = document.querySelector("select[data-browser-time-zone]");
  if (!select || select.value) return;
  let zone = "";
  try {
    zone = Intl.DateTimeFormat().resolvedOptions().timeZone || "";
  } catch {
    return;
  }
  if (zone && Array.from(select.options).some((option) => option.value === zone)) {
    select.value = zone;
    select.dispatchEvent(new Event("change", { bubbles: true }));
  }
});
