// Self-assessment form: OKVED code suggestions as one types, and a search box over the sector picker.
// Without JavaScript the form works as it is: a text field with a list of priority codes, and checkboxes.
(function () {
  "use strict";

  function fold(text) {
    return text.normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase()
      .replace(/đ/g, "d").replace(/ё/g, "е");
  }

  // --- OKVED suggestions ---------------------------------------------------------------------------
  function okvedLookup(box) {
    var input = box.querySelector("input");
    if (!input) { return; }
    var url = box.getAttribute("data-lookup-url");
    var lang = box.getAttribute("data-lang");
    var list = document.createElement("ul");
    list.id = input.id + "-suggestions";
    list.className = "suggestions";
    list.setAttribute("role", "listbox");
    list.hidden = true;
    input.parentNode.insertBefore(list, input.nextSibling);
    input.removeAttribute("list");  // our list replaces the browser's datalist
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-controls", list.id);
    input.setAttribute("aria-expanded", "false");
    var timer = null;
    var active = -1;
    var asked = 0;

    function lastItem() {
      var parts = input.value.split(";");
      return parts[parts.length - 1].trim();
    }

    function close() {
      list.hidden = true;
      list.textContent = "";
      active = -1;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
    }

    function pick(code) {
      var parts = input.value.split(";");
      parts[parts.length - 1] = (parts.length > 1 ? " " : "") + code;
      input.value = parts.join(";");
      close();
      input.focus();
    }

    function show(results) {
      list.textContent = "";
      active = -1;
      if (!results.length) {
        var empty = document.createElement("li");
        empty.className = "suggestion-empty";
        empty.textContent = box.getAttribute("data-empty");
        list.appendChild(empty);
      }
      results.forEach(function (item, i) {
        var li = document.createElement("li");
        li.id = list.id + "-" + i;
        li.className = "suggestion";
        li.setAttribute("role", "option");
        li.setAttribute("data-code", item.code);
        var code = document.createElement("code");
        code.textContent = item.code;
        li.appendChild(code);
        li.appendChild(document.createTextNode(" " + item.title));
        li.addEventListener("mousedown", function (event) {
          event.preventDefault();  // keep the focus in the field
          pick(item.code);
        });
        list.appendChild(li);
      });
      // the field is a flex column: place the list under the input, not at the column's top
      list.style.top = (input.offsetTop + input.offsetHeight + 2) + "px";
      list.hidden = false;
      input.setAttribute("aria-expanded", "true");
    }

    function ask() {
      var query = lastItem();
      if (query.length < 2) { close(); return; }
      var mine = ++asked;
      fetch(url + "?q=" + encodeURIComponent(query) + "&lang=" + encodeURIComponent(lang) + "&limit=8",
            {headers: {"Accept": "application/json"}})
        .then(function (response) { return response.ok ? response.json() : {results: []}; })
        .then(function (data) { if (mine === asked) { show(data.results || []); } })
        .catch(function () { close(); });
    }

    function move(step) {
      var options = list.querySelectorAll(".suggestion");
      if (!options.length) { return; }
      if (active >= 0) { options[active].removeAttribute("aria-selected"); }
      active = (active + step + options.length) % options.length;
      options[active].setAttribute("aria-selected", "true");
      input.setAttribute("aria-activedescendant", options[active].id);
    }

    input.addEventListener("input", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(ask, 180);
    });
    input.addEventListener("keydown", function (event) {
      if (list.hidden) { return; }
      if (event.key === "ArrowDown") { event.preventDefault(); move(1); }
      else if (event.key === "ArrowUp") { event.preventDefault(); move(-1); }
      else if (event.key === "Escape") { close(); }
      else if (event.key === "Enter" && active >= 0) {
        event.preventDefault();
        pick(list.querySelectorAll(".suggestion")[active].getAttribute("data-code"));
      }
    });
    input.addEventListener("blur", function () { window.setTimeout(close, 150); });
  }

  // --- Sector picker: a search box and the chosen sectors ---------------------------------------------
  function sectorPicker(box) {
    var boxes = Array.prototype.slice.call(box.querySelectorAll("input[type=checkbox]"));
    var search = document.createElement("input");
    search.type = "search";
    search.id = "sector-search";
    search.className = "sector-search";
    search.placeholder = box.getAttribute("data-search");
    search.setAttribute("aria-label", box.getAttribute("data-search"));
    search.setAttribute("autocomplete", "off");
    var chosen = document.createElement("p");
    chosen.className = "sector-chosen";
    chosen.id = "sector-chosen";
    chosen.setAttribute("aria-live", "polite");
    var help = box.querySelector(".help");
    box.insertBefore(search, help ? help.nextSibling : box.firstChild);
    box.insertBefore(chosen, search.nextSibling);

    function labelOf(checkbox) {
      return checkbox.parentNode.querySelector("span").textContent;
    }

    function summary() {
      var names = boxes.filter(function (c) { return c.checked; }).map(labelOf);
      chosen.textContent = box.getAttribute("data-chosen") + " " +
        (names.length ? names.join(", ") : box.getAttribute("data-none"));
    }

    function filter() {
      var words = fold(search.value).split(/\s+/).filter(Boolean);
      boxes.forEach(function (c) {
        var label = fold(labelOf(c));
        var tokens = label.split(/[^0-9a-z\u0400-\u04ff]+/);
        var hit = words.every(function (w) {
          return tokens.some(function (t) { return t.indexOf(w) === 0; });
        });
        c.closest("li").hidden = !(hit || c.checked);
      });
      box.querySelectorAll(".sector-group").forEach(function (group) {
        group.hidden = !group.querySelector("li:not([hidden])");
      });
    }

    search.addEventListener("input", filter);
    search.addEventListener("keydown", function (event) {
      if (event.key === "Enter") { event.preventDefault(); }  // Enter in the search box does not submit
    });
    boxes.forEach(function (c) { c.addEventListener("change", summary); });
    summary();
  }

  // --- answers survive a language switch -----------------------------------------------------------
  // The answers live only in the page (nothing is stored before the firm sends them): a click on a
  // language posts them back, to the form (data-keep="form") or to a new result in that language.
  function hidden(form, name, value) {
    var input = document.createElement("input");
    input.type = "hidden";
    input.name = name;
    input.value = value;
    form.appendChild(input);
  }

  function answered(source) {
    var any = false;
    new FormData(source).forEach(function (value, name) {
      if (name !== "csrf_token" && String(value).trim() !== "") { any = true; }
    });
    return any;
  }

  function keepAnswers(source) {
    document.querySelectorAll(".lang-switch a[hreflang]").forEach(function (link) {
      link.addEventListener("click", function (event) {
        if (!answered(source)) { return; }  // nothing typed yet: the plain link will do
        event.preventDefault();
        var post = document.createElement("form");
        post.method = "post";
        post.action = source.getAttribute("data-keep-answers") + "?lang=" +
          encodeURIComponent(link.getAttribute("hreflang"));
        new FormData(source).forEach(function (value, name) {
          if (name !== "consent" && name !== "keep") { hidden(post, name, value); }
        });
        if (source.getAttribute("data-keep") === "form") { hidden(post, "keep", "form"); }
        document.body.appendChild(post);
        post.submit();
      });
    });
  }

  // --- the printable report -------------------------------------------------------------------------
  document.querySelectorAll("[data-print]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () { window.print(); });
  });

  var answers = document.querySelector("form[data-keep-answers]");
  if (answers) { keepAnswers(answers); }
  document.querySelectorAll(".okved-lookup").forEach(okvedLookup);
  var picker = document.getElementById("sector-picker");
  if (picker) { sectorPicker(picker); }
})();
