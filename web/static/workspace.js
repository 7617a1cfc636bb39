// The lead list's bulk toolbar: show only the choice the selected action needs (assignee or status).
// Without this script both selects stay visible and the form works the same.
(function () {
  "use strict";
  var action = document.getElementById("bulk-action");
  if (!action) { return; }
  var assignee = document.getElementById("bulk-assignee");
  var status = document.getElementById("bulk-status");

  function update() {
    assignee.hidden = action.value !== "assign";
    status.hidden = action.value !== "status";
  }

  action.addEventListener("change", update);
  update();
}());
