// iseg-bench HTML report: sortable sample tables and the worst-samples selector. No libraries, no network.
"use strict";

function cellValue(row, index, type) {
  const raw = row.cells[index].dataset.value;
  if (type === "number") {
    const v = parseFloat(raw);
    return Number.isNaN(v) ? null : v;  // missing values sort last either way
  }
  return raw === undefined ? row.cells[index].textContent : raw;
}

function sortTable(table, index, type, descending) {
  const body = table.tBodies[0];
  const rows = Array.from(body.rows);
  rows.sort((a, b) => {
    const x = cellValue(a, index, type), y = cellValue(b, index, type);
    if (x === null || y === null) return (x === null) - (y === null);
    const order = type === "number" ? x - y : String(x).localeCompare(String(y), undefined, { numeric: true });
    return descending ? -order : order;
  });
  rows.forEach((row) => body.appendChild(row));
}

document.querySelectorAll("table.sortable").forEach((table) => {
  const heads = Array.from(table.tHead.rows[0].cells);
  heads.forEach((th, index) => {
    const button = th.querySelector("button.sort");
    if (!button) return;
    button.addEventListener("click", () => {
      const descending = th.getAttribute("aria-sort") === "ascending";
      heads.forEach((other) => { if (other.hasAttribute("aria-sort")) other.setAttribute("aria-sort", "none"); });
      th.setAttribute("aria-sort", descending ? "descending" : "ascending");
      sortTable(table, index, button.dataset.type, descending);
    });
  });
});

document.querySelectorAll(".worst").forEach((box) => {
  const select = box.querySelector("select.worst-select");
  if (!select) return;
  select.addEventListener("change", () => {
    box.querySelectorAll("ol.worst-list").forEach((list) => { list.hidden = list.dataset.method !== select.value; });
  });
});
