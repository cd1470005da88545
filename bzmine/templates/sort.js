// Click a header of a table.sortable to sort its rows; numbers sort numerically, blanks last.
document.querySelectorAll("table.sortable").forEach(function (table) {
  table.querySelectorAll("th").forEach(function (th, col) {
    th.addEventListener("click", function () {
      var body = table.tBodies[0];
      var rows = Array.prototype.slice.call(body.rows);
      var asc = th.getAttribute("aria-sort") !== "ascending";
      table.querySelectorAll("th").forEach(function (h) { h.removeAttribute("aria-sort"); });
      th.setAttribute("aria-sort", asc ? "ascending" : "descending");
      function key(row) {
        var cell = row.cells[col];
        var v = cell.getAttribute("data-sort");
        if (v === null) { v = cell.textContent.trim(); }
        var n = parseFloat(v);
        return { blank: v === "" || v === "-", num: !isNaN(n) && isFinite(v), n: n, s: v.toLowerCase() };
      }
      rows.sort(function (a, b) {
        var x = key(a), y = key(b);
        if (x.blank !== y.blank) { return x.blank ? 1 : -1; }
        var r = (x.num && y.num) ? x.n - y.n : (x.s < y.s ? -1 : x.s > y.s ? 1 : 0);
        return asc ? r : -r;
      });
      rows.forEach(function (row) { body.appendChild(row); });
    });
  });
});

// Type in an input[data-filter] to show only the rows of that table whose text contains it (case-insensitive).
document.querySelectorAll("input[data-filter]").forEach(function (input) {
  var table = document.getElementById(input.getAttribute("data-filter"));
  if (!table) { return; }
  input.addEventListener("input", function () {
    var q = input.value.trim().toLowerCase();
    Array.prototype.forEach.call(table.tBodies[0].rows, function (row) {
      row.hidden = q !== "" && row.textContent.toLowerCase().indexOf(q) === -1;
    });
  });
});
