// The spawn form's storage section (and, on one machine, its profile cards): dataset search
// through the hub's own endpoint, the version picker, more dataset rows, and translation of
// every marked string with the fermi_jupyter catalog when the browser prefers Chinese.
(function () {
  "use strict";
  var root = document.getElementById("fermi-storage");
  if (!root) { return; }
  var searchUrl = root.getAttribute("data-search-url");
  var localeUrl = root.getAttribute("data-locale-url");

  // -- translation ------------------------------------------------------------------------
  function format(text, args) {
    return text.replace(/\{(\w+)\}/g, function (all, key) {
      return Object.prototype.hasOwnProperty.call(args, key) ? args[key] : all;
    });
  }
  function wantsChinese() {
    var langs = navigator.languages && navigator.languages.length ? navigator.languages : [navigator.language || ""];
    for (var i = 0; i < langs.length; i++) {
      var l = (langs[i] || "").toLowerCase();
      if (l.indexOf("zh") === 0) { return true; }
      if (l.indexOf("en") === 0) { return false; }
    }
    return false;
  }
  var catalog = null;
  function tr(text) {
    var entry = catalog && catalog[text];
    return entry && entry[0] ? entry[0] : text;
  }
  function translate(scope) {
    if (!catalog) { return; }
    scope.querySelectorAll("[data-i18n]").forEach(function (el) {
      var args = {};
      try { args = JSON.parse(el.getAttribute("data-i18n-args") || "{}"); } catch (e) { args = {}; }
      el.textContent = format(tr(el.getAttribute("data-i18n")), args);
    });
    scope.querySelectorAll("[data-i18n-placeholder]").forEach(function (el) {
      el.placeholder = tr(el.getAttribute("data-i18n-placeholder"));
    });
  }
  if (wantsChinese()) {
    fetch(localeUrl + "/zh_CN.json", {credentials: "same-origin"})
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) {
        if (!data) { return; }
        catalog = data;
        document.documentElement.lang = "zh-CN";
        translate(document);
        // the hub's own words around the form: its title, the button, the error line
        document.querySelectorAll("h1, #spawn_form button[type=submit]").forEach(function (el) {
          var text = el.textContent.trim();
          if (text === "Server Options" || text === "Start") { el.textContent = tr(text); }
        });
        document.querySelectorAll(".spawn-error-msg").forEach(function (el) {
          var text = el.textContent.replace(/^\s*Error:\s*/, "");
          Object.keys(catalog).forEach(function (key) {
            if (key && text.indexOf(key) >= 0) { text = text.replace(key, tr(key)); }
          });
          el.textContent = tr("Error") + ": " + text;
        });
      })
      .catch(function () { /* English stays */ });
  }

  // -- dataset search and versions -----------------------------------------------------------
  var list = document.getElementById("fermi-dataset-options");
  var known = {}, timer = null;
  function label(d) { return d.owner + "/" + d.name; }
  function search(q, row) {
    fetch(searchUrl + "?q=" + encodeURIComponent(q), {credentials: "same-origin"})
      .then(function (r) { return r.ok ? r.json() : {items: []}; })
      .then(function (body) {
        list.innerHTML = "";
        body.items.forEach(function (d) {
          known[label(d)] = d; known[d.id] = d;
          var o = document.createElement("option");
          o.value = label(d);
          o.label = label(d) + (d.latest ? " (v" + d.latest + ")" : "");
          list.appendChild(o);
        });
        if (row) { fill(row); }
      })
      .catch(function () { /* the field still takes a typed name */ });
  }
  function fill(row) {
    var input = row.querySelector(".fermi-dataset-ref"), d = known[input.value];
    if (!d) { return; }
    if (input.value === d.id) { input.value = label(d); }  // people read owner/name, not ds-…
    var path = row.querySelector(".fermi-dataset-path");
    if (!path.value) { path.value = "/datasets/" + d.name; }
    var sel = row.querySelector(".fermi-dataset-version"), chosen = sel.value;
    sel.innerHTML = "";
    var latest = document.createElement("option");
    latest.value = "latest";
    latest.textContent = tr("latest ready") + (d.latest ? " (v" + d.latest + ")" : "");
    sel.appendChild(latest);
    fetch(searchUrl + "/" + encodeURIComponent(d.id) + "/versions", {credentials: "same-origin"})
      .then(function (r) { return r.ok ? r.json() : {items: []}; })
      .then(function (body) {
        body.items.forEach(function (v) {
          var o = document.createElement("option");
          o.value = String(v.number);
          o.textContent = "v" + v.number + (v.aliases.length ? " (" + v.aliases.join(", ") + ")" : "");
          if (o.value === chosen) { o.selected = true; }
          sel.appendChild(o);
        });
      })
      .catch(function () { /* "latest ready" is always there */ });
  }
  function wire(row) {
    var input = row.querySelector(".fermi-dataset-ref");
    input.addEventListener("input", function () {
      clearTimeout(timer);
      var q = input.value;
      if (known[q]) { fill(row); return; }
      timer = setTimeout(function () { search(q, row); }, 150);
    });
    input.addEventListener("change", function () { fill(row); });
  }
  document.querySelectorAll(".fermi-dataset-row").forEach(wire);
  var add = document.getElementById("fermi-add-dataset");
  if (add) {
    add.addEventListener("click", function () {
      var rows = document.querySelectorAll(".fermi-dataset-row"), last = rows[rows.length - 1];
      var row = last.cloneNode(true);
      row.querySelectorAll("input").forEach(function (i) { i.value = ""; });
      row.querySelectorAll(".fermi-error").forEach(function (e) { e.remove(); });
      row.querySelector(".fermi-dataset-version").innerHTML =
        '<option value="latest">' + tr("latest ready") + "</option>";
      last.parentNode.appendChild(row);
      wire(row);
    });
  }
  if (list) {
    search("", null);
    document.querySelectorAll(".fermi-dataset-row").forEach(function (row) {
      var v = row.querySelector(".fermi-dataset-ref").value;
      if (v) { search(v, row); }  // a remembered choice: its versions, its name
    });
  }
})();
