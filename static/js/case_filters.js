/*
 * The case list's folded filters (templates/cases/case_list.html): keeps the "Filters (n)"
 * button's count current while filters change, since a change swaps only the results and not
 * the form that holds the button. The server renders the count; this only follows the user's
 * edits. Without it the count is the one of the last full render, and everything still works.
 *
 * Hooks: <details class="case-filters__more"> holding the filter controls, and inside its
 * <summary> an element with data-filter-count (hidden when no filter is set).
 */
(function () {
  "use strict";

  function setCount(panel) {
    var counter = panel.querySelector("[data-filter-count]");
    if (!counter) {
      return;
    }
    var count = 0;
    panel.querySelectorAll("input[name], select[name]").forEach(function (control) {
      // The page size is a control of the panel but not a filter.
      if (control.name !== "size" && control.type !== "hidden" && control.value.trim() !== "") {
        count += 1;
      }
    });
    counter.textContent = " (" + count + ")";
    counter.hidden = count === 0;
  }

  function onEdit(event) {
    var panel = event.target.closest && event.target.closest(".case-filters__more");
    if (panel) {
      setCount(panel);
    }
  }

  document.addEventListener("input", onEdit);
  document.addEventListener("change", onEdit);
})();
