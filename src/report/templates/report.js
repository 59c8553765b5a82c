// gridrun report: filter by slug, show only what did not pass, expand or collapse every detail,
// open the details a link points into. The page is whole without it; whatever happens here, it
// ends by marking the page ready (the browser test reads these).
(function () {
  "use strict";
  var body = document.body;
  var make = function (tag, cls, text) {
    var el = document.createElement(tag);
    if (cls) {
      el.className = cls;
    }
    if (text !== undefined) {
      el.textContent = text;
    }
    return el;
  };
  // The grid again by the keys the reader picks, from the cells' data the page carries: a cell
  // of many jobs as a stacked bar of its outcomes, opening the list of its jobs.
  var pivotControls = function () {
    var source = document.getElementById("grid-data");
    var table = document.getElementById("grid-table");
    var rowPick = document.getElementById("pivot-row");
    var colPick = document.getElementById("pivot-col");
    if (!source || !table || !rowPick || !colPick) {
      return;
    }
    var data = JSON.parse(source.textContent);
    if (data.keys.length < 1) {
      return;
    }
    var fill = function (select, current, none) {
      if (none) {
        select.appendChild(make("option", "", "(none)")).value = "";
      }
      data.keys.forEach(function (key) {
        var option = select.appendChild(make("option", "", key));
        option.value = key;
      });
      select.value = current;
    };
    fill(rowPick, table.getAttribute("data-row"), false);
    fill(colPick, table.getAttribute("data-col"), true);
    var tones = ["ok", "flaky", "bad", "live", "none"];
    var mark = function (job) {
      var a = make("a", "cell t-" + job[2], job[3]);
      a.href = "#j" + job[0];
      a.title = job[1];
      a.setAttribute("data-slug", job[1]);
      return a;
    };
    var draw = function () {
      var row = data.keys.indexOf(rowPick.value);
      var col = data.keys.indexOf(colPick.value);
      var rows = [], cols = [], cells = {};
      data.jobs.forEach(function (job) {
        var r = job[4][row], c = col < 0 ? "" : job[4][col];
        if (rows.indexOf(r) < 0) {
          rows.push(r);
        }
        if (cols.indexOf(c) < 0) {
          cols.push(c);
        }
        (cells[r + "\u0000" + c] = cells[r + "\u0000" + c] || []).push(job);
      });
      var head = make("tr");
      head.appendChild(make("th", "", col < 0 ? rowPick.value : rowPick.value + " \\ " + colPick.value));
      cols.forEach(function (c) { head.appendChild(make("th", "", col < 0 ? "jobs" : c)); });
      var thead = make("thead"), tbody = make("tbody");
      thead.appendChild(head);
      rows.forEach(function (r) {
        var tr = make("tr");
        tr.appendChild(make("th", "", r));
        cols.forEach(function (c) {
          var jobs = cells[r + "\u0000" + c] || [];
          var td = make("td"), marks = make("div", "marks");
          jobs.forEach(function (job) { marks.appendChild(mark(job)); });
          if (jobs.length > data.heat) {
            var details = make("details", "heat"), summary = make("summary");
            var stack = make("span", "stack"), counts = make("span", "counts");
            tones.forEach(function (tone) {
              var n = jobs.filter(function (job) { return job[2] === tone; }).length;
              if (n > 0) {
                var part = stack.appendChild(make("span", "t-" + tone));
                part.style.width = Math.max(1, Math.floor(n * 100 / jobs.length)) + "%";
                counts.appendChild(make("span", "tag t-" + tone, String(n)));
              }
            });
            summary.title = jobs.length + " jobs";
            summary.appendChild(stack);
            summary.appendChild(document.createTextNode(" "));
            summary.appendChild(counts);
            details.appendChild(summary);
            details.appendChild(marks);
            td.appendChild(details);
          } else {
            td.appendChild(marks);
          }
          tr.appendChild(td);
        });
        tbody.appendChild(tr);
      });
      table.replaceChildren(thead, tbody);
      document.getElementById("grid-title").textContent =
        col < 0 ? rowPick.value : rowPick.value + " \u00d7 " + colPick.value;
      body.dataset.pivot = rowPick.value + "," + colPick.value;
    };
    rowPick.addEventListener("change", draw);
    colPick.addEventListener("change", draw);
    // `report.html?pivot=ROW,COL` opens the page pivoted so: a link can share a view.
    var asked = /[?&]pivot=([^&]*)/.exec(location.search);
    if (asked) {
      var keys = decodeURIComponent(asked[1]).split(",");
      if (data.keys.indexOf(keys[0]) >= 0 && (keys.length < 2 || keys[1] === "" || data.keys.indexOf(keys[1]) >= 0)) {
        rowPick.value = keys[0];
        colPick.value = keys[1] || "";
        draw();
      }
    }
  };
  try {
    var search = document.getElementById("search");
    var onlyBad = document.getElementById("only-bad");
    var apply = function () {
      var items = document.querySelectorAll("[data-slug]");
      var q = search.value.trim().toLowerCase();
      body.classList.toggle("only-bad", onlyBad.checked);
      for (var i = 0; i < items.length; i++) {
        var slug = (items[i].getAttribute("data-slug") || "").toLowerCase();
        items[i].classList.toggle("miss", q !== "" && slug.indexOf(q) === -1);
      }
    };
    var setAll = function (open) {
      var all = document.querySelectorAll("details");
      for (var i = 0; i < all.length; i++) {
        all[i].open = open;
      }
    };
    var reveal = function () {
      var id = "";
      try {
        id = decodeURIComponent(location.hash.slice(1));
      } catch (e) {
        id = "";
      }
      for (var el = id ? document.getElementById(id) : null; el; el = el.parentElement) {
        if (el.tagName === "DETAILS") {
          el.open = true;
        }
      }
    };
    search.addEventListener("input", apply);
    onlyBad.addEventListener("change", apply);
    document.getElementById("expand").addEventListener("click", function () { setAll(true); });
    document.getElementById("collapse").addEventListener("click", function () { setAll(false); });
    window.addEventListener("hashchange", reveal);
    pivotControls();
    document.getElementById("tools").hidden = false;
    reveal();
  } catch (e) {
    // Only the tools are lost; the report itself is plain HTML.
  } finally {
    body.dataset.cells = String(document.querySelectorAll(".cell").length);
    body.dataset.ready = "1";
  }
})();
