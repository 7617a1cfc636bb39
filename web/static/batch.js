// Batch job page: poll the job's JSON status and update the progress (scoring, then importing); reload when it ends.
(function () {
  "use strict";
  var box = document.getElementById("job");
  if (!box) { return; }
  var active = ["queued", "running"];
  var state = box.getAttribute("data-state");
  var importing = active.indexOf(box.getAttribute("data-import-state")) >= 0;
  if (active.indexOf(state) < 0 && !importing) { return; }
  var url = box.getAttribute("data-status-url");
  var bar = document.getElementById("job-progress");
  var percent = document.getElementById("job-percent");
  var label = document.getElementById("job-state");
  var labels = JSON.parse(label.getAttribute("data-labels") || "{}");
  var imported = document.getElementById("import-progress");
  // the page's language writes the percentage as the server's percent filter does (64%; 64 % in Russian)
  var percentText = new Intl.NumberFormat(document.documentElement.lang || undefined,
    {style: "percent", maximumFractionDigits: 0, roundingMode: "halfEven"});

  function update(data) {
    if (importing) {
      if (imported) {
        imported.textContent = imported.getAttribute("data-text")
          .replace("{n}", data.imported).replace("{m}", data.scored);
      }
      if (active.indexOf(data.import_state) < 0) {
        window.location.reload();
        return;
      }
      window.setTimeout(poll, 600);
      return;
    }
    bar.value = data.progress;
    percent.textContent = percentText.format(data.progress);
    label.textContent = labels[data.state] || data.state;
    label.className = "state state-" + data.state;
    if (data.state === "done" || data.state === "failed") {
      window.location.reload();
      return;
    }
    window.setTimeout(poll, 600);
  }

  function poll() {
    fetch(url, {headers: {"Accept": "application/json"}, credentials: "same-origin"})
      .then(function (response) { return response.json(); })
      .then(update)
      .catch(function () { window.setTimeout(poll, 2000); });
  }

  window.setTimeout(poll, 300);
}());
