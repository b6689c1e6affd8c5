"use strict";
// Errors are shown on the page (and read by the browser test), not only in the console.
window.addEventListener("error", function (e) {
  var box = document.getElementById("js-errors");
  box.hidden = false;
  box.textContent += "Script error: " + e.message + "\n";
});
(function () {
  var COLS = ["URL", "status", "class", "failure", "scope", "depth", "TTFB ms", "bytes", "inlinks", "findings", "type"];
  var ROW = 24;
  var data = JSON.parse(document.getElementById("url-data").textContent);
  var head = document.querySelector("#table .vhead");
  var body = document.querySelector("#table .vbody");
  var spacer = body.querySelector(".vspacer");
  var q = document.getElementById("q");
  var cls = document.getElementById("cls");
  var scope = document.getElementById("scope");
  var shown = document.getElementById("shown");
  var view = data.slice();
  var sortCol = -1, sortDir = 1;

  COLS.forEach(function (name, i) {
    var h = document.createElement("div");
    h.textContent = name;
    h.setAttribute("role", "columnheader");
    h.addEventListener("click", function () {
      sortDir = sortCol === i ? -sortDir : 1;
      sortCol = i;
      Array.prototype.forEach.call(head.children, function (c) { c.removeAttribute("aria-sort"); });
      h.setAttribute("aria-sort", sortDir > 0 ? "ascending" : "descending");
      apply();
    });
    head.appendChild(h);
  });

  function cmp(a, b) {
    var x = a[sortCol], y = b[sortCol];
    if (x === y) return 0;
    if (x === null || x === undefined) return 1;
    if (y === null || y === undefined) return -1;
    return (x < y ? -1 : 1) * sortDir;
  }

  function apply() {
    var needle = q.value.trim().toLowerCase();
    var c = cls.value, s = scope.value;
    view = data.filter(function (r) {
      return (!needle || r[0].toLowerCase().indexOf(needle) >= 0) &&
        (!c || r[2] === c) && (!s || r[4] === s);
    });
    if (sortCol >= 0) view.sort(cmp);
    spacer.style.height = (view.length * ROW) + "px";
    shown.textContent = view.length + " of " + data.length + " URLs";
    body.scrollTop = 0;
    draw();
  }

  function cell(row, text) {
    var d = document.createElement("div");
    d.textContent = text === null || text === undefined ? "" : String(text);
    d.title = d.textContent;
    row.appendChild(d);
  }

  // Only the rows in view (plus a margin) exist in the DOM.
  function draw() {
    var first = Math.max(0, Math.floor(body.scrollTop / ROW) - 10);
    var last = Math.min(view.length, first + Math.ceil(body.clientHeight / ROW) + 20);
    var frag = document.createDocumentFragment();
    for (var i = first; i < last; i++) {
      var r = view[i];
      var row = document.createElement("div");
      row.className = "vrow c" + r[2];
      row.style.top = (i * ROW) + "px";
      var link = document.createElement("div");
      var a = document.createElement("a");
      a.href = r[0];
      a.textContent = r[0];
      link.title = r[0];
      link.appendChild(a);
      row.appendChild(link);
      for (var j = 1; j < COLS.length; j++) cell(row, r[j]);
      frag.appendChild(row);
    }
    while (spacer.firstChild) spacer.removeChild(spacer.firstChild);
    spacer.appendChild(frag);
    document.documentElement.setAttribute("data-rows-drawn", String(last - first));
  }

  var pending = false;
  body.addEventListener("scroll", function () {
    if (pending) return;
    pending = true;
    window.requestAnimationFrame(function () { pending = false; draw(); });
  });
  var timer = null;
  q.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(apply, 120); });
  cls.addEventListener("change", apply);
  scope.addEventListener("change", apply);
  apply();
  document.documentElement.setAttribute("data-ready", "1");
})();
