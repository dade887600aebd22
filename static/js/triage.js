/*
 * The decision queues (/triage/): the keyboard, and moving on after a decision. Loaded only by
 * templates/triage/queue.html. No eval, no inline handlers (CSP); everything here is an
 * enhancement: without it rows are links and actions are pages.
 *
 *   j / k     select the next / previous case (its panel loads beside the queue)
 *   Enter     open the selected case's page
 *   a r p u w accept, reject, pause, resume, withdraw: press the panel's button carrying that
 *             data-shortcut, which opens the case action's confirmation in #action-dialog;
 *             the panel shows only the actions the case's state allows, and none to viewers
 *   ?         the shortcuts dialog
 * Shortcuts never fire while typing in a field, with a modifier key, or while a dialog is open.
 *
 * When a refresh of the index ends (the event caseIndexRefreshed), the board is fetched again.
 * After a decision the action view's answer carries the event caseDecided: the dialog closes,
 * and the board is fetched again with the next case selected (the decided case has left the
 * queue: triage.views leaves out cases with a decision in flight).
 */
(function () {
  "use strict";

  var PANEL_DELAY_MS = 120; // j held down or pressed quickly: load only the case it stops on
  var panelTimer = null;
  // An action key was pressed and its confirmation is on its way: an Enter typed ahead (a, Enter)
  // is dropped instead of opening the case page (it was meant for the confirmation, which
  // then takes the next Enter); after this long Enter opens cases again.
  var CONFIRMATION_WAIT_MS = 3000;
  var confirmationAskedAt = 0;

  function board() {
    return document.getElementById("triage-board");
  }

  function rows() {
    var table = document.querySelector("[data-triage-table]");
    return table ? Array.prototype.slice.call(table.querySelectorAll("tbody tr[data-case-number]")) : [];
  }

  function selectedRow() {
    var all = rows();
    for (var i = 0; i < all.length; i += 1) {
      if (all[i].getAttribute("aria-current") === "true") {
        return all[i];
      }
    }
    return null;
  }

  function openDialog() {
    return document.querySelector("dialog[open]");
  }

  function isTyping(target) {
    if (!(target instanceof Element)) {
      return false;
    }
    return Boolean(target.closest("input, textarea, select, [contenteditable]:not([contenteditable='false'])"));
  }

  /* ---------- Selection ---------- */

  function markSelected(row) {
    rows().forEach(function (other) {
      if (other === row) {
        other.setAttribute("aria-current", "true");
      } else {
        other.removeAttribute("aria-current");
      }
    });
    var field = document.querySelector(".triage-filters input[name='selected']");
    if (field && row) {
      field.value = row.getAttribute("data-case-number");
    }
  }

  // Clicks an element that acts through htmx (hx-get). htmx sets up swapped-in content when the
  // swap settles; a key pressed in between (a quick "a" after the next case's panel arrived)
  // would click a link htmx does not know yet, and the browser would follow its href: a whole
  // page load that leaves the queue. htmx.process is idempotent: set it up now if need be.
  function clickThroughHtmx(element) {
    if (window.htmx) {
      window.htmx.process(element);
    }
    element.click();
  }

  function loadPanel(row) {
    window.clearTimeout(panelTimer);
    panelTimer = window.setTimeout(function () {
      var link = row.querySelector("a.triage-row__select");
      if (link) {
        clickThroughHtmx(link); // its hx-get loads the panel and records the selection in the URL
      }
    }, PANEL_DELAY_MS);
  }

  function select(row, focus) {
    if (!row) {
      return;
    }
    markSelected(row);
    if (focus) {
      row.focus({ preventScroll: true });
      row.scrollIntoView({ block: "nearest" });
    }
    loadPanel(row);
  }

  function move(step) {
    var all = rows();
    if (!all.length) {
      return;
    }
    var current = selectedRow();
    var index = current ? all.indexOf(current) + step : step > 0 ? 0 : all.length - 1;
    index = Math.max(0, Math.min(all.length - 1, index));
    if (all[index] === current) {
      current.focus({ preventScroll: true });
      return;
    }
    select(all[index], true);
  }

  // A click anywhere in a row (not on its links) selects it; the case number still opens it.
  document.addEventListener("click", function (event) {
    var target = event.target;
    if (!(target instanceof Element) || !board()) {
      return;
    }
    var row = target.closest("[data-triage-table] tbody tr[data-case-number]");
    if (!row) {
      return;
    }
    if (target.closest("a, button")) {
      if (target.closest("a.triage-row__select")) {
        markSelected(row); // the link itself loads the panel
      }
      return;
    }
    var selection = window.getSelection();
    if (selection && selection.toString().length > 0) {
      return;
    }
    select(row, true);
  });

  /* ---------- Actions and dialogs ---------- */

  function pressShortcut(key) {
    if (board() && board().getAttribute("data-can-act") !== "true") {
      return false;
    }
    var panel = document.getElementById("triage-panel");
    var button = panel ? panel.querySelector("[data-shortcut='" + key + "']") : null;
    if (!button) {
      return false;
    }
    clickThroughHtmx(button); // hx-get: the confirmation swaps into #action-panel, in the dialog
    confirmationAskedAt = Date.now();
    return true;
  }

  function showShortcuts() {
    var dialog = document.getElementById("triage-shortcuts");
    if (dialog && !dialog.open) {
      dialog.showModal();
    }
  }

  document.addEventListener("click", function (event) {
    var target = event.target;
    if (target instanceof Element && target.closest("[data-triage-show-shortcuts]")) {
      showShortcuts();
    }
  });

  // The confirmation arrived and htmx has set up its form: show it in the dialog. Not on
  // afterSwap: an Enter pressed at once would then submit the form before htmx knew it, as a
  // plain POST that leaves the queue for the action's own page.
  document.addEventListener("htmx:afterSettle", function (event) {
    var detail = event.detail || {};
    var target = detail.target;
    if (!(target instanceof Element)) {
      return;
    }
    var config = detail.requestConfig || {};
    var dialog = document.getElementById("action-dialog");
    var panel = document.getElementById("action-panel");
    // Only a confirmation (GET) opens it: the answer to a decision lands after caseDecided
    // closed the dialog, and must not open it again.
    if (config.verb !== "get" || !dialog || !panel || !dialog.contains(panel) || dialog.open) {
      return;
    }
    if (target.id === "action-panel") {
      // showModal focuses the dialog's autofocus element, else its first control: the Close
      // button, where an Enter pressed before app.js moves the focus (a quick "a, Enter") would
      // close the dialog instead of confirming. So the confirmation's own target is named first.
      var wanted = panel.querySelector("[data-autofocus]");
      if (wanted) {
        wanted.setAttribute("autofocus", "");
      }
      dialog.showModal();
      confirmationAskedAt = 0;
    }
  });

  // The selected case's panel arrived (a click, j/k, Back): the table follows the panel.
  document.addEventListener("htmx:afterSettle", function () {
    var panel = document.getElementById("triage-panel");
    var number = panel ? panel.getAttribute("data-case-number") : null;
    if (!number) {
      return;
    }
    rows().forEach(function (row) {
      if (row.getAttribute("data-case-number") === number) {
        row.setAttribute("aria-current", "true");
      } else {
        row.removeAttribute("aria-current");
      }
    });
  });

  function withSelected(url, caseNumber) {
    var parsed = new URL(url, window.location.href);
    if (caseNumber) {
      parsed.searchParams.set("selected", caseNumber);
    } else {
      parsed.searchParams.delete("selected");
    }
    return parsed.pathname + parsed.search;
  }

  // A decision was accepted: close the dialog, and show the queue without the case, the next
  // one selected (the one after it, or before it at the end of the page).
  document.body.addEventListener("caseDecided", function (event) {
    if (!board()) {
      return;
    }
    var detail = event.detail || {};
    var decided = String(detail.caseNumber || "");
    var all = rows();
    var index = -1;
    all.forEach(function (row, i) {
      if (row.getAttribute("data-case-number") === decided) {
        index = i;
      }
    });
    var next = all[index + 1] || all[index - 1] || null;
    var nextNumber = next ? next.getAttribute("data-case-number") : "";
    var dialog = document.getElementById("action-dialog");
    if (dialog && dialog.open) {
      dialog.close();
    }
    var url = withSelected(window.location.href, nextNumber);
    window.htmx.ajax("GET", url, { target: "#triage-board", swap: "outerHTML" }).then(function () {
      window.history.replaceState(window.history.state, "", url);
      var row = selectedRow();
      if (row) {
        row.focus({ preventScroll: true });
        row.scrollIntoView({ block: "nearest" });
      }
      if (window.dashboard && detail.action) {
        window.dashboard.announce(
          decided + ": " + (board().getAttribute("data-decided-text") || "")
        );
      }
    });
  });

  // A refresh of the index has finished (#index-freshness said so): show the queue as it is
  // now, at the address the page shows.
  document.body.addEventListener("caseIndexRefreshed", function () {
    if (board()) {
      window.htmx.ajax("GET", window.location.pathname + window.location.search, {
        target: "#triage-board",
        swap: "outerHTML",
      });
    }
  });

  // The dialog closed without a decision: the focus goes back to the selected case.
  document.addEventListener("close", function (event) {
    var target = event.target;
    if (!(target instanceof HTMLDialogElement) || !board()) {
      return;
    }
    if (target.id === "action-dialog") {
      var panel = document.getElementById("action-panel");
      if (panel) {
        panel.replaceChildren(); // the next confirmation starts empty
      }
    }
    var row = selectedRow();
    if (row) {
      row.focus({ preventScroll: true });
    }
  }, true);

  /* ---------- The keyboard ---------- */

  document.addEventListener("keydown", function (event) {
    if (!board() || event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) {
      return;
    }
    if (isTyping(event.target) || openDialog()) {
      return;
    }
    var key = event.key;
    if (key === "?") {
      event.preventDefault();
      showShortcuts();
      return;
    }
    if (event.shiftKey) {
      return;
    }
    if (key === "j" || key === "k") {
      event.preventDefault();
      move(key === "j" ? 1 : -1);
    } else if (key === "Enter") {
      if (Date.now() - confirmationAskedAt < CONFIRMATION_WAIT_MS) {
        event.preventDefault(); // meant for the confirmation, which is still loading
        return;
      }
      // On a link or button Enter does what it always does; elsewhere it opens the case.
      if (event.target instanceof Element && event.target.closest("a, button, summary")) {
        return;
      }
      var row = selectedRow();
      var href = row ? row.getAttribute("data-case-url") : "";
      if (href) {
        event.preventDefault();
        window.location.assign(href);
      }
    } else if (key === "a" || key === "r" || key === "p" || key === "u" || key === "w") {
      if (pressShortcut(key)) {
        event.preventDefault();
      }
    }
  });
})();
