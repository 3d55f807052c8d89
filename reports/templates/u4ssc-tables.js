/* Sortable, searchable long tables of the U4SSC site, by progressive enhancement: a table of class
   "u4ssc-sortable" (analysis/present.py) is plain HTML without this script; with it, each column
   header becomes a sort button (ascending, then descending; aria-sort tells which) and a search box
   above the table hides the rows that do not contain the text typed. A cell's data-sort attribute,
   when present, is its sort key (numbers as written by Python); empty cells sort last. No library,
   nothing loaded from the network: linked by the nbconvert pages, included inline by Quarto. */
(function () {
  "use strict";

  function sortKey(cell) {
    var raw = cell.getAttribute("data-sort");
    var text = raw !== null ? raw : cell.textContent.trim();
    if (text === "" || text === "\u2013") { return null; }
    var n = Number(text);
    return isNaN(n) ? text.toLocaleLowerCase() : n;
  }

  function compare(a, b) {
    if (a === null || b === null) { return a === b ? 0 : (a === null ? 1 : -1); }
    if (typeof a === typeof b) { return a < b ? -1 : (a > b ? 1 : 0); }
    return typeof a === "number" ? -1 : 1;
  }

  function sortBy(table, column, header) {
    var body = table.tBodies[0];
    var ascending = header.getAttribute("aria-sort") !== "ascending";
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (r, s) {
      var a = sortKey(r.cells[column]), b = sortKey(s.cells[column]);
      var order = (a === null || b === null) ? compare(a, b) : (ascending ? compare(a, b) : compare(b, a));
      return order || (Number(r.getAttribute("data-order")) - Number(s.getAttribute("data-order")));
    });
    rows.forEach(function (row) { body.appendChild(row); });
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th) { th.setAttribute("aria-sort", "none"); });
    header.setAttribute("aria-sort", ascending ? "ascending" : "descending");
  }

  function filter(table, text, counter) {
    var needle = text.trim().toLocaleLowerCase();
    var rows = table.tBodies[0].rows, shown = 0;
    Array.prototype.forEach.call(rows, function (row) {
      var hit = needle === "" || row.textContent.toLocaleLowerCase().indexOf(needle) >= 0;
      row.hidden = !hit;
      shown += hit ? 1 : 0;
    });
    var template = table.getAttribute("data-count") || "{shown} / {total}";
    counter.textContent = needle === "" ? "" : template.replace("{shown}", shown).replace("{total}", rows.length);
  }

  function enhance(table) {
    if (!table.tHead || !table.tBodies.length || table.getAttribute("data-enhanced")) { return; }
    table.setAttribute("data-enhanced", "yes");
    Array.prototype.forEach.call(table.tBodies[0].rows, function (row, i) { row.setAttribute("data-order", i); });
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, column) {
      var button = document.createElement("button");
      button.type = "button";
      button.className = "u4ssc-sort";
      while (th.firstChild) { button.appendChild(th.firstChild); }
      th.appendChild(button);
      th.setAttribute("aria-sort", "none");
      button.addEventListener("click", function () { sortBy(table, column, th); });
    });
    var label = table.getAttribute("data-filter-label") || "Search";
    var box = document.createElement("div");
    box.className = "u4ssc-filter";
    var input = document.createElement("input");
    input.type = "search";
    input.placeholder = label;
    input.setAttribute("aria-label", label);
    var counter = document.createElement("span");
    counter.className = "u4ssc-filter-count";
    counter.setAttribute("aria-live", "polite");
    box.appendChild(input);
    box.appendChild(counter);
    var anchor = table.closest(".u4ssc-table-wrap") || table;
    anchor.parentNode.insertBefore(box, anchor);
    input.addEventListener("input", function () { filter(table, input.value, counter); });
  }

  function enhanceAll() {
    Array.prototype.forEach.call(document.querySelectorAll("table.u4ssc-sortable"), enhance);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", enhanceAll);
  } else {
    enhanceAll();
  }
}());
