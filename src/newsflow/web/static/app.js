// newsflow review UI: keyboard shortcuts on the queue, source sentences on the draft page.
// Everything works without this file; it only adds shortcuts and highlighting.
(function () {
  "use strict";

  function typing(ev) {
    var t = ev.target;
    return t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT|BUTTON)$/.test(t.tagName) && t.type !== "checkbox");
  }

  // --- queue ---------------------------------------------------------------------------
  var rows = Array.prototype.slice.call(document.querySelectorAll("tr.qrow"));
  var current = -1;
  var rowForm = document.getElementById("row-action");
  var panel = document.getElementById("reject-panel");

  function select(i) {
    if (!rows.length) return;
    current = Math.max(0, Math.min(rows.length - 1, i));
    rows.forEach(function (r, j) { r.classList.toggle("current", j === current); r.setAttribute("aria-selected", j === current ? "true" : "false"); });
    rows[current].scrollIntoView({ block: "nearest" });
  }

  function act(action) {
    var row = rows[current];
    if (!row || !rowForm) return;
    rowForm.action = "/drafts/" + row.dataset.id + "/action";
    rowForm.elements.action.value = action;
    rowForm.elements.version.value = row.dataset.version;
    if (action === "reject") {
      panel.hidden = false;
      document.getElementById("reject-title").textContent = "#" + row.dataset.id;
      var input = document.getElementById("reject-reason");
      input.required = true;
      input.focus();
      return;
    }
    rowForm.submit();
  }

  if (rows.length) {
    document.addEventListener("keydown", function (ev) {
      if (ev.ctrlKey || ev.metaKey || ev.altKey || typing(ev)) return;
      var row = rows[current];
      switch (ev.key) {
        case "j": select(current + 1); break;
        case "k": select(current - 1); break;
        case "o": case "Enter": if (row) window.location.href = row.dataset.href; break;
        case "e": if (row) window.location.href = row.dataset.href + "#edit"; break;
        case "a": act("approve"); break;
        case "r": act("reject"); ev.preventDefault(); break;
        default: return;
      }
    });
    rows.forEach(function (r, j) { r.addEventListener("click", function () { select(j); }); });
  }
  var cancel = document.getElementById("reject-cancel");
  if (cancel) cancel.addEventListener("click", function () { panel.hidden = true; });
  var all = document.getElementById("select-all");
  if (all) all.addEventListener("change", function () {
    document.querySelectorAll("input[name=item]").forEach(function (c) { c.checked = all.checked; });
  });

  // --- draft page: where did this number come from? ------------------------------------
  var abstract = document.getElementById("abstract");
  var sourcePanel = document.getElementById("source-panel");

  function showSource(el) {
    if (!sourcePanel) return;
    var s = parseInt(el.dataset.start, 10), e = parseInt(el.dataset.end, 10);
    document.getElementById("source-sentence").textContent = el.dataset.sentence || "";
    document.getElementById("source-label").textContent =
      "Source of \u201c" + el.textContent.trim() + "\u201d" + (el.dataset.label ? " (" + el.dataset.label.replace(/_/g, " ") + ")" : "");
    sourcePanel.hidden = false;
    document.querySelectorAll(".hl").forEach(function (n) { n.classList.remove("hl"); });
    document.querySelectorAll(".num.active, .fact-link.active").forEach(function (n) { n.classList.remove("active"); });
    el.classList.add("active");
    if (abstract && s >= 0) {
      var first = null;
      abstract.querySelectorAll(".sent").forEach(function (n) {
        var ns = parseInt(n.dataset.start, 10), ne = parseInt(n.dataset.end, 10);
        if (ns < e && s < ne) { n.classList.add("hl"); first = first || n; }
      });
      if (first) first.scrollIntoView({ block: "nearest" });
    }
  }

  document.addEventListener("click", function (ev) {
    var el = ev.target.closest && ev.target.closest("button.num:not(.unsupported), mark.fact, button.fact-link");
    if (el) showSource(el);
  });
  document.addEventListener("keydown", function (ev) {
    if (ev.key === "Enter" && ev.target.matches && ev.target.matches("mark.fact")) showSource(ev.target);
  });

  // After the browser's own scroll to #edit, which would otherwise reset the focus.
  window.addEventListener("load", function () {
    var editor = document.getElementById("body-editor");
    if (window.location.hash === "#edit" && editor) setTimeout(function () { editor.focus(); }, 0);
  });
})();
