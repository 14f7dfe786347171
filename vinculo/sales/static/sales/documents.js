// Quote and order pages: removing a line row (the totals are then recomputed by the server) and
// the "Print" button of the printable view. Adding a row is HTMX (hx-get of an empty row).
document.addEventListener("DOMContentLoaded", () => {
  document.body.addEventListener("click", (e) => {
    const remove = e.target.closest("[data-remove-line]");
    if (remove) {
      const rows = document.querySelectorAll("[data-line-row]");
      const row = remove.closest("[data-line-row]");
      if (rows.length > 1) {
        row.remove();
      } else {
        // keep one (empty) row to type into
        row.querySelectorAll("input").forEach((input) => { input.value = ""; });
        row.querySelectorAll("select").forEach((select) => { select.selectedIndex = 0; });
      }
      document.body.dispatchEvent(new Event("lines-changed"));
      return;
    }
    if (e.target.closest("[data-print]")) window.print();
  });
});

// A line shows its price as soon as its product is picked: the unit price (and the tax rate, when
// empty) the line would be saved with, from GET <price url>?currency=&price_list= (the price list's
// price, else the product's default price in the base currency). A price typed by hand is kept;
// one filled in here follows a change of product, currency or price list.
document.addEventListener("DOMContentLoaded", () => {
  const rows = document.getElementById("line-rows");
  if (!rows || !rows.dataset.priceUrl) return;
  const field = (row, name) => row.querySelector(`[name="line_${name}"]`);

  function fill(row) {
    const product = field(row, "product");
    const price = field(row, "unit_price");
    const tax = field(row, "tax_rate");
    if (!product || !price) return;
    if (!product.value) {
      if (price.dataset.auto) { price.value = ""; delete price.dataset.auto; }
      if (tax && tax.dataset.auto) { tax.value = ""; delete tax.dataset.auto; }
      price.placeholder = price.dataset.placeholder || price.placeholder;
      return;
    }
    if (price.value && !price.dataset.auto) return;
    const params = new URLSearchParams();
    const currency = document.getElementById("id_currency");
    const priceList = document.getElementById("id_price_list");
    params.set("currency", (currency ? currency.value : rows.dataset.currency || "").trim().toUpperCase());
    if (priceList && priceList.value) params.set("price_list", priceList.value);
    const url = rows.dataset.priceUrl.replace("/0/price/", `/${encodeURIComponent(product.value)}/price/`);
    row.setAttribute("aria-busy", "true");
    fetch(`${url}?${params}`, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then((response) => (response.ok ? response.json() : null))
      .then((body) => {
        row.removeAttribute("aria-busy");
        if (!body || product.value === "") return;
        if (!price.dataset.placeholder) price.dataset.placeholder = price.placeholder;
        if (body.unit_price !== null) {
          price.value = body.unit_price;
          price.dataset.auto = "1";
        } else {
          price.value = "";
          delete price.dataset.auto;
          price.placeholder = body.message;
        }
        if (tax && (!tax.value || tax.dataset.auto)) {
          tax.value = body.tax_rate;
          tax.dataset.auto = "1";
        }
        document.body.dispatchEvent(new Event("lines-changed"));
      })
      .catch(() => row.removeAttribute("aria-busy"));
  }

  document.body.addEventListener("change", (e) => {
    const target = e.target;
    if (target.matches('[name="line_product"]')) {
      fill(target.closest("[data-line-row]"));
    } else if (target.matches("#id_currency, #id_price_list")) {
      rows.querySelectorAll("[data-line-row]").forEach((row) => {
        const price = field(row, "unit_price");
        if (price && (price.dataset.auto || !price.value)) fill(row);
      });
    }
  });
  // a price or tax rate typed by hand is the user's: no longer replaced
  document.body.addEventListener("input", (e) => {
    if (e.target.matches('[name="line_unit_price"], [name="line_tax_rate"]')) delete e.target.dataset.auto;
  });
});
