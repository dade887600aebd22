/*
 * Collection dashboard: shared behaviour. No framework, no build step, no eval (the pages run
 * under a Content-Security-Policy without unsafe-inline or unsafe-eval). Everything here is an
 * enhancement: every page works without it.
 *
 * Hooks for templates:
 *   <select data-autosubmit>        submits its form when a choice is made (the form keeps a
 *                                   submit button, class "autosubmit-fallback", for no-JS users,
 *                                   shown too while a keyboard choice waits for Enter)
 *   selects that act on "change"    (data-autosubmit, hx-trigger="change") act when the choice is
 *                                   made, not at every arrow key: see "Selects act when..."
 *   <tr data-href="/cases/1/">      a click anywhere in the row opens the URL, like the link the
 *                                   row holds (which keyboard users reach and press); clicks on
 *                                   real links, buttons and form controls inside the row behave
 *                                   as usual; Ctrl/Cmd/middle click opens a new tab; a click
 *                                   that ends a text selection (a drag, a double click) does not
 *                                   navigate
 *   <tbody data-rows>               its rows' links are one Tab stop each; Up/Down (Home/End)
 *                                   move between rows
 *   "/"                             outside a text field, focuses the page's search box
 *                                   (input[type=search][name=q], or [data-search-shortcut])
 *   data-initial-focus              on a search box: the page opens with the focus in it
 *   data-announce="Showing 1–25 of 1 234"
 *                                   on an element inside swapped content: the text is read out by
 *                                   screen readers (via the page's #live-region) after the swap
 *   data-autofocus                  on an element inside swapped content: it gets the focus after
 *                                   the swap
 *
 * After an htmx swap that removed the focused element (a pager link, a retry button), the focus
 * moves to the new content, so keyboard users are not thrown back to the top of the page. While a
 * request is in flight its target carries aria-busy="true".
 */
(function () {
  "use strict";

  document.documentElement.classList.add("js");

  var INTERACTIVE = "a, button, input, select, textarea, label, summary, [role='button']";

  /* ---------- Screen-reader announcements ---------- */

  function announce(text) {
    var region = document.getElementById("live-region");
    if (!region || !text) {
      return;
    }
    // Clearing first makes a repeated identical message be read again.
    region.textContent = "";
    window.setTimeout(function () {
      region.textContent = text;
    }, 50);
  }

  /* ---------- Selects act when the choice is made ---------- */
  //
  // A select that acts on "change" (data-autosubmit, or htmx's hx-trigger="change") would act on
  // every arrow key: on a closed select, Chromium changes the value and fires "change" at each
  // arrow, Home/End or type-ahead letter, so walking through the statuses ran a search and added
  // a history entry per step, and walking through the organisations switched at the first one.
  // A change made with those keys is held back until the choice is made:
  //   - Enter acts on it;
  //   - leaving a filter (data-commit="blur", the default for htmx selects) acts on it, like a
  //     text field's change; leaving a switcher (data-autosubmit) does not: its button appears,
  //     and Enter or the button switches;
  //   - Escape puts the value back.
  // A choice made in the open list (a mouse click, or Enter in the list) acts at once: the page
  // sees no keys while the list is open, only the "change" that closes it.

  var CHANGING_KEYS = ["ArrowUp", "ArrowDown", "ArrowLeft", "ArrowRight", "Home", "End", "PageUp", "PageDown"];
  var keyedSelect = null; // the select a key was pressed on, until that key's events are over
  var replaying = false;

  function actsOnChange(select) {
    return select.hasAttribute("data-autosubmit") || /(^|[\s,])change\b/.test(select.getAttribute("hx-trigger") || "");
  }

  function commitsOnBlur(select) {
    return !select.hasAttribute("data-autosubmit");
  }

  function setPending(select, pending) {
    if (pending) {
      select.setAttribute("data-choice-pending", "");
    } else {
      select.removeAttribute("data-choice-pending");
    }
    if (select.form) {
      var anyPending = select.form.querySelector("select[data-choice-pending]") !== null;
      select.form.toggleAttribute("data-choice-pending", anyPending);
    }
  }

  function commit(select) {
    setPending(select, false);
    select.setAttribute("data-committed-value", select.value);
    replaying = true;
    try {
      select.dispatchEvent(new Event("change", { bubbles: true }));
    } finally {
      replaying = false;
    }
  }

  document.addEventListener("focusin", function (event) {
    var select = event.target;
    if (select instanceof HTMLSelectElement && actsOnChange(select) && !select.hasAttribute("data-choice-pending")) {
      select.setAttribute("data-committed-value", select.value);
    }
  });

  document.addEventListener("keydown", function (event) {
    var select = event.target;
    if (!(select instanceof HTMLSelectElement) || !actsOnChange(select)) {
      return;
    }
    var pending = select.hasAttribute("data-choice-pending");
    if (event.key === "Enter" && pending) {
      event.preventDefault();
      commit(select);
    } else if (event.key === "Escape" && pending) {
      select.value = select.getAttribute("data-committed-value") || "";
      setPending(select, false);
    } else if (CHANGING_KEYS.indexOf(event.key) !== -1 || (event.key.length === 1 && event.key !== " ")) {
      if (event.altKey) {
        return; // Alt+Down opens the list: the choice made there acts at once
      }
      keyedSelect = select;
      window.setTimeout(function () {
        keyedSelect = null;
      }, 0);
    }
  }, true);

  document.addEventListener("mousedown", function () {
    keyedSelect = null;
  }, true);

  // Capturing at the document runs before htmx's listener on the select itself.
  document.addEventListener("change", function (event) {
    var select = event.target;
    if (replaying || select !== keyedSelect || !(select instanceof HTMLSelectElement) || !actsOnChange(select)) {
      return;
    }
    event.stopImmediatePropagation();
    setPending(select, select.value !== select.getAttribute("data-committed-value"));
  }, true);

  document.addEventListener("focusout", function (event) {
    var select = event.target;
    if (select instanceof HTMLSelectElement && select.hasAttribute("data-choice-pending") && commitsOnBlur(select)) {
      commit(select);
    }
  });

  // A switcher's choice made: submit its form. requestSubmit fires the submit event, so
  // htmx-powered forms submit through htmx.
  document.addEventListener("change", function (event) {
    var select = event.target;
    if (!(select instanceof HTMLSelectElement) || !select.hasAttribute("data-autosubmit")) {
      return;
    }
    var form = select.form;
    if (!form) {
      return;
    }
    if (typeof form.requestSubmit === "function") {
      form.requestSubmit();
    } else {
      form.submit();
    }
  });

  /* ---------- Rows that open their link ---------- */

  // How far the pointer may move between pressing and releasing for it to be a click, not a
  // drag that selects text (Chromium still fires "click" on the row after such a drag).
  var CLICK_SLOP_PX = 4;
  var pressedAt = null;

  function rowFor(event) {
    var target = event.target;
    if (!(target instanceof Element)) {
      return null;
    }
    var row = target.closest("tr[data-href]");
    if (!row || target.closest(INTERACTIVE)) {
      return null; // real links and controls inside the row keep their own behaviour
    }
    return row;
  }

  function openRow(row, inNewTab) {
    var href = row.getAttribute("data-href");
    if (!href) {
      return;
    }
    if (inNewTab) {
      window.open(href, "_blank", "noopener");
    } else {
      window.location.assign(href);
    }
  }

  function endsASelection(event, row) {
    // A drag: whatever the selection looks like now, the user was selecting, not clicking.
    if (pressedAt && (Math.abs(event.clientX - pressedAt.x) > CLICK_SLOP_PX ||
        Math.abs(event.clientY - pressedAt.y) > CLICK_SLOP_PX)) {
      return true;
    }
    // A double or triple click selects a word or the cell; so does shift-click extending one.
    if (event.detail > 1) {
      return true;
    }
    var selection = window.getSelection();
    return Boolean(selection && !selection.isCollapsed && selection.toString().trim() !== "" &&
      selection.containsNode(row, true));
  }

  document.addEventListener("mousedown", function (event) {
    pressedAt = event.button === 0 ? { x: event.clientX, y: event.clientY } : null;
  });

  document.addEventListener("click", function (event) {
    var row = rowFor(event);
    if (!row || event.button !== 0) {
      return;
    }
    if (endsASelection(event, row)) {
      return; // the user was selecting text to copy, not opening the case
    }
    openRow(row, event.ctrlKey || event.metaKey || event.shiftKey);
  });

  document.addEventListener("auxclick", function (event) {
    var row = rowFor(event);
    if (row && event.button === 1) {
      event.preventDefault();
      openRow(row, true);
    }
  });

  /* ---------- Keyboard: rows and the search box ---------- */

  // Each row of a <tbody data-rows> is one Tab stop (its link); Up and Down move between rows,
  // Home and End to the first and last. "/" anywhere outside a text field focuses the search.

  function rowLink(row) {
    return row ? row.querySelector("a[href]") : null;
  }

  function neighbourLink(row, step) {
    var rows = Array.prototype.slice.call(row.parentElement.querySelectorAll(":scope > tr"));
    for (var index = rows.indexOf(row) + step; index >= 0 && index < rows.length; index += step) {
      var link = rowLink(rows[index]);
      if (link) {
        return link;
      }
    }
    return null;
  }

  function edgeLink(row, last) {
    var rows = Array.prototype.slice.call(row.parentElement.querySelectorAll(":scope > tr"));
    if (last) {
      rows.reverse();
    }
    for (var index = 0; index < rows.length; index += 1) {
      var link = rowLink(rows[index]);
      if (link) {
        return link;
      }
    }
    return null;
  }

  function isTyping(element) {
    return element instanceof Element &&
      (element.matches("input, textarea, select") || element.isContentEditable);
  }

  function searchBox() {
    return document.querySelector("[data-search-shortcut], input[type='search'][name='q']");
  }

  // A page whose search box says so (data-initial-focus: the case list) opens with the focus in
  // it, where the work begins, instead of on the page body: after logging in, after following a
  // menu link. Not when the address names a place on the page, not when the browser already put
  // the focus somewhere, and not on touch screens, where it would pop up the keyboard over the
  // list. Pages with single-key shortcuts (triage) do not opt in: their keys would be typed.
  document.addEventListener("DOMContentLoaded", function () {
    var search = document.querySelector("[data-initial-focus]");
    var active = document.activeElement;
    var nothingFocused = !active || active === document.body;
    if (search && nothingFocused && !window.location.hash && matchMedia("(pointer: fine)").matches) {
      search.focus({ preventScroll: true });
    }
  });

  document.addEventListener("keydown", function (event) {
    if (event.altKey || event.ctrlKey || event.metaKey || event.defaultPrevented) {
      return;
    }
    var target = event.target;
    if (event.key === "/" && !isTyping(target)) {
      var search = searchBox();
      if (search) {
        event.preventDefault();
        search.focus();
        search.select();
      }
      return;
    }
    if (!(target instanceof Element)) {
      return;
    }
    var row = target.closest("tbody[data-rows] > tr");
    if (!row || target !== rowLink(row)) {
      return;
    }
    var next = null;
    if (event.key === "ArrowDown") {
      next = neighbourLink(row, 1);
    } else if (event.key === "ArrowUp") {
      next = neighbourLink(row, -1);
    } else if (event.key === "Home") {
      next = edgeLink(row, false);
    } else if (event.key === "End") {
      next = edgeLink(row, true);
    } else {
      return;
    }
    event.preventDefault(); // the page does not scroll as well
    if (next) {
      next.focus();
    }
  });

  /* ---------- htmx: busy state, focus and announcements after a swap ---------- */

  var focusWasInTarget = false;

  function targetOf(event) {
    var detail = event.detail || {};
    return detail.target instanceof Element ? detail.target : null;
  }

  document.addEventListener("htmx:beforeRequest", function (event) {
    var target = targetOf(event);
    if (target) {
      target.setAttribute("aria-busy", "true");
    }
  });

  // Any answer at all: the target is no longer busy, and the network is back.
  document.addEventListener("htmx:afterRequest", function (event) {
    var target = targetOf(event);
    if (target) {
      target.removeAttribute("aria-busy");
    }
    var detail = event.detail || {};
    var banner = document.getElementById("network-error");
    if (banner && detail.xhr && detail.xhr.status > 0) {
      banner.hidden = true;
    }
  });

  document.addEventListener("htmx:beforeSwap", function (event) {
    var target = targetOf(event);
    var active = document.activeElement;
    focusWasInTarget = Boolean(target && active && active !== document.body && target.contains(active));
  });

  function focusQuietly(element) {
    if (!element.hasAttribute("tabindex") && !element.matches(INTERACTIVE)) {
      element.setAttribute("tabindex", "-1");
    }
    element.focus({ preventScroll: false });
  }

  document.addEventListener("htmx:afterSettle", function (event) {
    var target = targetOf(event);
    // With an outerHTML swap the old target is gone; its replacement carries the same id.
    if (target && !target.isConnected && target.id) {
      target = document.getElementById(target.id);
    }
    if (!target) {
      return;
    }
    target.removeAttribute("aria-busy");

    var announcer = target.matches("[data-announce]") ? target : target.querySelector("[data-announce]");
    if (announcer) {
      announce(announcer.getAttribute("data-announce"));
    }

    var wanted = target.matches("[data-autofocus]") ? target : target.querySelector("[data-autofocus]");
    var active = document.activeElement;
    var focusLost = !active || active === document.body || !active.isConnected;
    if (wanted) {
      focusQuietly(wanted);
    } else if (focusWasInTarget && focusLost) {
      focusQuietly(target);
    }
    focusWasInTarget = false;
  });

  // A request that never got an answer (network down, server gone): say so instead of
  // leaving the page silently unchanged.
  document.addEventListener("htmx:sendError", function (event) {
    var target = targetOf(event);
    if (target) {
      target.removeAttribute("aria-busy");
    }
    var body = document.body;
    announce(body ? body.getAttribute("data-network-error") || "" : "");
    var banner = document.getElementById("network-error");
    if (banner) {
      banner.hidden = false;
    }
  });

  // Filter forms send every field; leave the empty ones out of GET requests, so the URLs htmx
  // pushes stay as short as the links the server builds.
  document.addEventListener("htmx:configRequest", function (event) {
    var detail = event.detail || {};
    if (detail.verb !== "get" || !detail.formData) {
      return;
    }
    var empty = [];
    detail.formData.forEach(function (value, name) {
      var values = detail.formData.getAll(name);
      var allEmpty = values.every(function (v) { return v === ""; });
      if (allEmpty && empty.indexOf(name) === -1) {
        empty.push(name);
      }
    });
    empty.forEach(function (name) { detail.formData.delete(name); });
  });

  // htmx does not cancel an older history fetch when Back is pressed again; a late answer
  // would replace the page of the newer history entry with the list of one already left.
  var historyRequest = null;
  document.addEventListener("htmx:historyCacheMiss", function (event) {
    if (historyRequest) {
      historyRequest.abort();
    }
    historyRequest = event.detail.xhr;
  });

  window.dashboard = { announce: announce };
})();
