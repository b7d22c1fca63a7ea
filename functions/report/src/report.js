// The assets table (sort, filter, search, pages) and the asset pages, from the data above.
// Deep links: #asset=ID opens a page (#asset=ID&only=1 shows it alone, to print); #status=3,
// #fault=T3, #substation=NAME, #q=TEXT filter the table.
(function () {
  "use strict";
  var ROWS = JSON.parse(document.getElementById("asset-rows").textContent);
  var PAGE = 100;
  var COL = { id: 0, name: 1, substation: 2, status: 3, fault: 4, confidence: 5, priority: 6, latest: 7, reason: 8 };
  var state = { q: "", status: "", fault: "", substation: "", sort: COL.priority, dir: -1, page: 0 };
  var el = function (id) { return document.getElementById(id); };
  var body = document.querySelector("#asset-table tbody");
  var esc = function (s) {
    return String(s).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  };
  var sections = {};
  document.querySelectorAll('script[type="text/x-asset-section"]').forEach(function (s) {
    sections[s.getAttribute("data-asset")] = s;
  });

  function matches(r) {
    if (state.status && String(r[COL.status]) !== state.status) return false;
    if (state.fault && r[COL.fault].split(" ")[0] !== state.fault) return false;
    if (state.substation && r[COL.substation].toLowerCase().indexOf(state.substation.toLowerCase()) < 0) return false;
    if (state.q) {
      var q = state.q.toLowerCase();
      var hay = (r[COL.id] + " " + r[COL.name] + " " + r[COL.substation] + " " + r[COL.reason]).toLowerCase();
      if (hay.indexOf(q) < 0) return false;
    }
    return true;
  }

  function render() {
    var rows = ROWS.filter(matches);
    var c = state.sort, dir = state.dir;
    rows.sort(function (a, b) {
      var x = a[c], y = b[c];
      if (x < y) return -dir; if (x > y) return dir;
      return b[COL.priority] - a[COL.priority];
    });
    var pages = Math.max(1, Math.ceil(rows.length / PAGE));
    state.page = Math.min(state.page, pages - 1);
    var shown = rows.slice(state.page * PAGE, (state.page + 1) * PAGE);
    body.innerHTML = shown.map(function (r) {
      return '<tr data-asset="' + esc(r[COL.id]) + '"><td>' + esc(r[COL.id]) + "</td><td>" + esc(r[COL.name]) +
        "</td><td>" + esc(r[COL.substation]) + '</td><td><span class="badge s' + r[COL.status] + '">Status ' +
        r[COL.status] + "</span></td><td>" + esc(r[COL.fault]) + "</td><td>" + esc(r[COL.confidence]) +
        '</td><td class="num">' + r[COL.priority].toFixed(1) + "</td><td>" + esc(r[COL.latest]) + "</td><td>" +
        esc(r[COL.reason]) + "</td></tr>";
    }).join("");
    el("count").textContent = rows.length + " of " + ROWS.length + " assets";
    el("page").textContent = "page " + (state.page + 1) + " of " + pages;
    el("prev").disabled = state.page === 0;
    el("next").disabled = state.page >= pages - 1;
    document.querySelectorAll("#asset-table th").forEach(function (th) {
      var on = Number(th.getAttribute("data-col")) === state.sort;
      th.classList.toggle("sorted", on);
      th.classList.toggle("asc", on && state.dir > 0);
    });
  }

  function open(id, alone) {
    var view = el("asset-view");
    var s = sections[id];
    document.body.classList.toggle("asset-only", !!alone);
    if (s) {
      view.innerHTML = '<p class="tools">' + (alone
        ? '<a href="#asset=' + encodeURIComponent(id) + '">Back to the report</a>'
        : '<a href="#asset=' + encodeURIComponent(id) + '&only=1">This page alone, to print</a> · <a href="#assets">Back to the table</a>') +
        "</p>" + s.textContent;
    } else {
      var known = ROWS.some(function (r) { return r[COL.id] === id; });
      view.innerHTML = "<h2>Asset page</h2><p class=\"note\">" + (known
        ? esc(id) + " has no page in this report (only the highest-priority assets have one); its full record is its line in diagnoses.jsonl."
        : "No asset " + esc(id) + " in this report.") + "</p>";
    }
    view.setAttribute("data-open", id);
    document.querySelectorAll("#asset-table tbody tr").forEach(function (tr) {
      tr.classList.toggle("selected", tr.getAttribute("data-asset") === id);
    });
    if (alone) window.scrollTo(0, 0); else view.scrollIntoView();
  }

  function fromHash() {
    var pairs = location.hash.replace(/^#/, "").split("&").map(function (part) {
      var i = part.indexOf("=");
      if (i < 0) return null;
      var v = part.slice(i + 1);
      // A hand-typed link may hold a bare '%': read it as written rather than fail.
      try { v = decodeURIComponent(v); } catch (e) { /* keep v */ }
      return [part.slice(0, i), v];
    }).filter(Boolean);
    var filters = ["q", "status", "fault", "substation"];
    var filtered = pairs.some(function (p) { return filters.indexOf(p[0]) >= 0; });
    if (filtered) {
      // A link that filters replaces the filters in force.
      filters.forEach(function (k) { state[k] = ""; el(k).value = ""; });
      pairs.forEach(function (p) {
        if (filters.indexOf(p[0]) >= 0) { state[p[0]] = p[1]; el(p[0]).value = p[1]; }
      });
      state.page = 0;
    }
    render();
    var asset = pairs.filter(function (p) { return p[0] === "asset"; })[0];
    var alone = pairs.some(function (p) { return p[0] === "only"; });
    if (asset) open(asset[1], alone);
    else {
      document.body.classList.remove("asset-only");
      if (filtered) el("assets").scrollIntoView();
    }
  }

  ["q", "status", "fault", "substation"].forEach(function (k) {
    el(k).addEventListener("input", function () { state[k] = el(k).value; state.page = 0; render(); });
  });
  document.querySelectorAll("#asset-table th").forEach(function (th) {
    th.addEventListener("click", function () {
      var c = Number(th.getAttribute("data-col"));
      state.dir = state.sort === c ? -state.dir : (c === COL.priority || c === COL.status ? -1 : 1);
      state.sort = c; render();
    });
  });
  body.addEventListener("click", function (e) {
    var tr = e.target.closest("tr");
    if (tr) location.hash = "asset=" + encodeURIComponent(tr.getAttribute("data-asset"));
  });
  el("prev").addEventListener("click", function () { state.page--; render(); });
  el("next").addEventListener("click", function () { state.page++; render(); });
  window.addEventListener("hashchange", fromHash);
  fromHash();
})();
