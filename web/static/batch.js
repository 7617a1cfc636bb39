// Batch job page: poll the job's JSON status and update the progress bar; reload when it ends.
(function () {
  "use strict";
  var box = document.getElementById("job");
  if (!box) { return; }
  var state = box.getAttribute("data-state");
  if (state !== "queued" && state !== "running") { return; }
  var url = box.getAttribute("data-status-url");
  var bar = document.getElementById("job-progress");
  var percent = document.getElementById("job-percent");
  var label = document.getElementById("job-state");
  var labels = JSON.parse(label.getAttribute("data-labels") || "{}");

  function update(data) {
    bar.value = data.progress;
    percent.textContent = Math.round(data.progress * 100) + "%";
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
