
document.querySelectorAll("table.sortable").forEach(function (table) {
  table.querySelectorAll("thead th").forEach(function (th, col) {
    th.addEventListener("click", function () {
      var asc = !th.classList.contains("asc");
      table.querySelectorAll("thead th").forEach(function (h) { h.classList.remove("asc", "desc"); });
      th.classList.add(asc ? "asc" : "desc");
      var body = table.tBodies[0];
      var rows = Array.prototype.slice.call(body.rows);
      rows.sort(function (a, b) {
        var x = a.cells[col], y = b.cells[col];
        if (x.hasAttribute("data-sort")) {
          var u = x.getAttribute("data-sort"), v = y.getAttribute("data-sort");
          if (u === "" || v === "") { return (u === "") - (v === ""); }
          return asc ? parseFloat(u) - parseFloat(v) : parseFloat(v) - parseFloat(u);
        }
        var c = x.textContent.localeCompare(y.textContent);
        return asc ? c : -c;
      });
      rows.forEach(function (r) { body.appendChild(r); });
    });
  });
});
