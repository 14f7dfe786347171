// Record pickers: a <select data-picker="URL"> (rendered with the chosen record and a first few
// choices, so it works without JavaScript) becomes a combobox that searches the whole organisation
// as you type, or lists the first ones on Alt+Down / Down (WAI-ARIA combobox with a listbox popup:
// arrow keys, Enter, Escape, mouse); tabbing through the form opens nothing. URL
// answers {"results": [{"id", "label", "detail"}]} for ?q=. The chosen record is set on the
// original select, which stays in the form (hidden) and is what the form sends.
// A <select data-picker-local> (a long fixed list, such as the 600 time zones) is searched the same
// way among its own options, without asking the server: every typed word must be in the option's
// text, in any case and with or without accents, an underscore matching a space ("new york" finds
// America/New_York); first the option named exactly so ("utc": UTC), then those with a part so
// named ("madrid": Europe/Madrid), then those with a part starting so. A script that sets the
// select's value and sends "change" (sign-up pre-fills the browser's zone) updates the box.
// Texts come from data attributes (data-picker-empty, data-picker-placeholder), no inline code.
(() => {
  let counter = 0;
  const LOCAL_LIMIT = 50;
  const fold = (text) =>
    text
      .normalize("NFD")
      .replace(/[\u0300-\u036f]/g, "")
      .toLowerCase()
      .replace(/_/g, " ")
      .replace(/\s+/g, " ")
      .trim();

  // the options of `select` matching `typed` as picker items, best first
  function localResults(select, typed) {
    const query = fold(typed);
    const words = query ? query.split(" ") : [];
    const found = [];
    for (const option of select.options) {
      if (option.value === "") continue;
      const label = option.textContent.trim();
      const text = fold(`${label} ${option.value}`);
      if (!words.every((word) => text.includes(word))) continue;
      const name = fold(label);
      const parts = name.split("/");
      let rank = 3;
      if (name === query) rank = 0;
      else if (parts.includes(query)) rank = 1;
      else if (query && parts.some((part) => part.startsWith(query))) rank = 2;
      found.push({ rank, item: { id: option.value, label } });
    }
    found.sort((a, b) => a.rank - b.rank); // stable: the select's order within a rank
    return found.slice(0, LOCAL_LIMIT).map((entry) => entry.item);
  }
  const within = (root, selector) => [
    ...(root.matches && root.matches(selector) ? [root] : []),
    ...(root.querySelectorAll ? root.querySelectorAll(selector) : []),
  ];

  function enhance(select) {
    if (select.dataset.pickerReady) return;
    select.dataset.pickerReady = "1";
    counter += 1;
    const base = select.id || `picker-${counter}`;
    const input = document.createElement("input");
    input.type = "text";
    input.id = `${base}-search`;
    input.autocomplete = "off";
    input.spellcheck = false;
    input.className = select.classList.contains("form-select-sm") ? "form-control form-control-sm" : "form-control";
    if (select.classList.contains("is-invalid")) input.classList.add("is-invalid");
    input.placeholder = select.dataset.pickerPlaceholder || "";
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false");
    const list = document.createElement("ul");
    list.id = `${base}-listbox`;
    list.className = "record-picker-list list-group shadow-sm";
    list.setAttribute("role", "listbox");
    list.hidden = true;
    input.setAttribute("aria-controls", list.id);
    for (const name of ["aria-describedby", "aria-invalid", "required"]) {
      if (select.hasAttribute(name)) input.setAttribute(name, select.getAttribute(name));
    }
    const label = select.id ? document.querySelector(`label[for="${CSS.escape(select.id)}"]`) : null;
    const around = select.closest("label");
    if (label) {
      if (!label.id) label.id = `${base}-label`;
      label.htmlFor = input.id;
      list.setAttribute("aria-labelledby", label.id);
    } else if (around) {
      // a label around the select names only its first control: name the box by the label's own text
      const text = [...around.childNodes].filter((n) => n.nodeType === Node.TEXT_NODE).map((n) => n.textContent);
      input.setAttribute("aria-label", text.join(" ").trim());
      list.setAttribute("aria-label", input.getAttribute("aria-label"));
    } else if (select.getAttribute("aria-label")) {
      input.setAttribute("aria-label", select.getAttribute("aria-label"));
    }
    const wrap = document.createElement("div");
    wrap.className = "record-picker";
    select.after(wrap);
    wrap.append(input, list);
    select.hidden = true;
    select.tabIndex = -1;
    select.setAttribute("aria-hidden", "true");

    const local = select.hasAttribute("data-picker-local");
    const chosenText = () => (select.value ? select.selectedOptions[0].textContent.trim() : "");
    input.value = chosenText();
    let items = [];
    let active = -1;
    let timer = null;
    let asked = 0;

    function close() {
      list.hidden = true;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
      active = -1;
    }
    function highlight(index) {
      const options = list.querySelectorAll("[role=option]");
      options.forEach((li, i) => {
        li.classList.toggle("active", i === index);
        li.setAttribute("aria-selected", i === index ? "true" : "false");
      });
      active = index;
      if (index >= 0 && options[index]) {
        input.setAttribute("aria-activedescendant", options[index].id);
        options[index].scrollIntoView({ block: "nearest" });
      } else {
        input.removeAttribute("aria-activedescendant");
      }
    }
    function show(results) {
      items = results;
      list.replaceChildren();
      results.forEach((item, i) => {
        const li = document.createElement("li");
        li.id = `${list.id}-${i}`;
        li.className = "list-group-item list-group-item-action";
        li.setAttribute("role", "option");
        li.setAttribute("aria-selected", "false");
        li.dataset.index = String(i);
        li.textContent = item.label;
        if (item.detail) {
          const small = document.createElement("small");
          small.className = "text-body-secondary ms-2";
          small.textContent = item.detail;
          li.append(small);
        }
        list.append(li);
      });
      if (!results.length) {
        const li = document.createElement("li");
        li.className = "list-group-item text-body-secondary";
        li.textContent = select.dataset.pickerEmpty || "—";
        list.append(li);
      }
      list.hidden = false;
      input.setAttribute("aria-expanded", "true");
      highlight(results.length ? 0 : -1);
    }
    async function search() {
      const ticket = ++asked;
      if (local) {
        show(localResults(select, input.value));
        return;
      }
      const url = new URL(select.dataset.picker, window.location.href);
      url.searchParams.set("q", input.value.trim());
      try {
        const response = await fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" });
        if (!response.ok || ticket !== asked) return;
        const body = await response.json();
        if (ticket === asked && document.activeElement === input) show(body.results || []);
      } catch (error) {
        // offline or refused: the select keeps its value
      }
    }
    function choose(index) {
      const item = items[index];
      if (!item) return;
      const value = String(item.id);
      let option = [...select.options].find((o) => o.value === value);
      if (!option) {
        option = new Option(item.label, value);
        select.add(option);
      }
      select.value = value;
      input.value = item.label;
      close();
      select.dispatchEvent(new Event("change", { bubbles: true }));
    }

    input.addEventListener("input", () => {
      clearTimeout(timer);
      timer = setTimeout(search, local ? 0 : 200);
    });
    // the value set by a script (and announced with "change"): the box shows it
    select.addEventListener("change", () => {
      if (document.activeElement !== input) input.value = chosenText();
    });
    input.addEventListener("keydown", (e) => {
      const open = !list.hidden;
      if (e.key === "ArrowDown" || e.key === "ArrowUp") {
        e.preventDefault();
        if (!open) {
          search();
          return;
        }
        if (!items.length) return;
        const step = e.key === "ArrowDown" ? 1 : -1;
        highlight((active + step + items.length) % items.length);
      } else if (e.key === "Enter" && open) {
        e.preventDefault(); // picks instead of sending the form
        if (active >= 0) choose(active);
      } else if (e.key === "Escape" && open) {
        e.preventDefault();
        input.value = chosenText();
        close();
      }
    });
    input.addEventListener("blur", () => {
      // emptied: no record (when the select allows none); otherwise back to the chosen one
      if (!input.value.trim() && [...select.options].some((o) => o.value === "")) {
        if (select.value !== "") {
          select.value = "";
          select.dispatchEvent(new Event("change", { bubbles: true }));
        }
      }
      input.value = chosenText();
      close();
    });
    list.addEventListener("mousedown", (e) => {
      const li = e.target.closest("[role=option]");
      e.preventDefault(); // the input keeps the focus
      if (li) choose(Number(li.dataset.index));
    });
  }

  const enhanceAll = (root) => within(root, "select[data-picker], select[data-picker-local]").forEach(enhance);
  enhanceAll(document); // deferred: the document is parsed
  document.addEventListener("htmx:load", (e) => enhanceAll(e.detail.elt || e.target));
})();
