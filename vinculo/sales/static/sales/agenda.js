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

  initHours(document);
  document.body.addEventListener("htmx:afterSettle", (e) => initHours(e.target));
});

// --- the hourly calendar: place each activity by its start and duration, drag to move it ---------
// Positions are set through the CSS object model (allowed by the Content-Security-Policy, unlike
// style attributes). A drag snaps to 15 minutes; the move is POSTed at once and undone if refused.
const MINUTES_PER_DAY = 24 * 60;
const SNAP = 15;

function minutesOf(text) {
  const [h, m] = (text || "0:0").split(":").map(Number);
  return h * 60 + m;
}

function hhmm(minutes) {
  return `${String(Math.floor(minutes / 60)).padStart(2, "0")}:${String(minutes % 60).padStart(2, "0")}`;
}

function place(block) {
  const slots = block.parentElement;
  const perMinute = slots.clientHeight / MINUTES_PER_DAY;
  const start = minutesOf(block.dataset.start);
  const duration = Math.max(Number(block.dataset.duration) || 30, 20);
  block.style.top = `${start * perMinute}px`;
  block.style.height = `${Math.min(duration, MINUTES_PER_DAY - start) * perMinute}px`;
}

function calendarAlert(calendar, text, kind) {
  window.vinculoToast(text, kind || "danger", document.getElementById("agenda-alerts"));
}

function csrf() {
  try {
    return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || "";
  } catch (e) {
    return "";
  }
}

async function reschedule(calendar, block, day, minutes, undo) {
  const url = calendar.dataset.rescheduleUrl.replace(/\/0\/reschedule\/$/, `/${block.dataset.activityId}/reschedule/`);
  const body = new FormData();
  body.append("due_at", `${day}T${hhmm(minutes)}`);
  block.classList.add("is-moving");
  let response;
  try {
    response = await fetch(url, { method: "POST", body, credentials: "same-origin", headers: { "X-CSRFToken": csrf(), Accept: "application/json" } });
  } catch (e) {
    undo();
    calendarAlert(calendar, calendar.dataset.msgNetwork);
    return;
  } finally {
    block.classList.remove("is-moving");
  }
  let data = null;
  try {
    data = await response.json();
  } catch (e) {
    data = null;
  }
  if (!response.ok) {
    undo();
    calendarAlert(calendar, (data && data.detail) || calendar.dataset.msgError);
    return;
  }
  block.dataset.start = data.activity.time;
  const time = block.querySelector(".agenda-block-time");
  if (time) time.textContent = data.activity.time;
  block.classList.remove("activity-overdue");
  place(block);
  calendarAlert(calendar, data.detail, "success");
}

function initHours(root) {
  root.querySelectorAll("[data-calendar]").forEach((calendar) => {
    if (calendar.dataset.ready) return;
    calendar.dataset.ready = "1";
    calendar.querySelectorAll(".agenda-block").forEach(place);
    const first = calendar.querySelector(".agenda-hours-slots");
    if (first) calendar.scrollTop = (first.clientHeight / 24) * 7; // the working day in sight
    let drag = null;
    let justDragged = false;

    calendar.addEventListener("pointerdown", (e) => {
      const block = e.target.closest(".agenda-block[data-movable]");
      if (!block || e.button !== 0) return;
      const rect = block.getBoundingClientRect();
      drag = { block, startX: e.clientX, startY: e.clientY, grabY: e.clientY - rect.top, moved: false,
               home: block.parentElement, homeTop: block.style.top, target: null, minutes: 0 };
    });
    calendar.addEventListener("pointermove", (e) => {
      if (!drag) return;
      if (!drag.moved && Math.hypot(e.clientX - drag.startX, e.clientY - drag.startY) < 5) return;
      if (!drag.moved) {
        drag.moved = true;
        drag.block.classList.add("is-dragging");
        calendar.setPointerCapture(e.pointerId);
      }
      const under = document.elementsFromPoint(e.clientX, e.clientY).find((el) => el.matches(".agenda-hours-slots"));
      if (!under) return;
      const perMinute = under.clientHeight / MINUTES_PER_DAY;
      const top = e.clientY - drag.grabY - under.getBoundingClientRect().top;
      const minutes = Math.min(Math.max(Math.round(top / perMinute / SNAP) * SNAP, 0), MINUTES_PER_DAY - SNAP);
      if (drag.block.parentElement !== under) under.appendChild(drag.block);
      drag.block.style.top = `${minutes * perMinute}px`;
      drag.target = under;
      drag.minutes = minutes;
    });
    const finish = () => {
      if (!drag) return;
      const { block, moved, target, minutes, home, homeTop } = drag;
      drag = null;
      block.classList.remove("is-dragging");
      if (!moved || !target) return;
      justDragged = true;
      setTimeout(() => { justDragged = false; }, 0);
      if (target === home && minutes === minutesOf(block.dataset.start)) return;
      const undo = () => {
        home.appendChild(block);
        block.style.top = homeTop;
      };
      reschedule(calendar, block, target.dataset.day, minutes, undo);
    };
    calendar.addEventListener("pointerup", finish);
    calendar.addEventListener("pointercancel", () => {
      if (drag && drag.moved) {
        drag.home.appendChild(drag.block);
        drag.block.style.top = drag.homeTop;
        drag.block.classList.remove("is-dragging");
      }
      drag = null;
    });
    // a drag is not a click: do not open the activity
    calendar.addEventListener("click", (e) => {
      if (justDragged) e.preventDefault();
    });
  });
}
