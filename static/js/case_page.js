/*
 * Collection dashboard: copy buttons and the page-level progress indicator. No framework, no
 * eval, no inline handlers (the pages run under a Content-Security-Policy without unsafe-inline).
 * Everything here is an enhancement: without it the values can be selected and pages still load.
 *
 * Hooks for templates:
 *   <button data-copy-target="payment-reference" data-copied="Copied"
 *           data-copy-failed="Could not copy…" hidden>
 *                                   copies the text of the element with that id to the clipboard
 *                                   (Clipboard API). Shown only where the API exists. The
 *                                   confirmation goes into the next sibling with class
 *                                   "copy-status" (role="status": visible and read out), and
 *                                   clears itself after a few seconds.
 *   #page-progress                  the bar at the top of the page (base.html). htmx lights it
 *                                   for its own requests (the body's hx-indicator); this lights
 *                                   it for a full page load too (a link, a plain form, a row
 *                                   that opens its case), so a slow upstream is not a silent
 *                                   wait; <main> is aria-busy meanwhile. The CSS shows it only
 *                                   once a request has taken about 300 ms, so a quick answer
 *                                   never flashes it. Downloads, other windows, mailto:/tel:
 *                                   and jumps within the page do not light it.
 */
(function () {
  "use strict";

  var STATUS_VISIBLE_MS = 4000;
  var NAVIGATING_CLASS = "page-progress--navigating";

  /* ---------- Copy buttons ---------- */

  function enableCopyButtons(root) {
    if (!navigator.clipboard || typeof navigator.clipboard.writeText !== "function") {
      return; // no Clipboard API (an insecure origin, an old browser): the text stays selectable
    }
    var buttons = root.querySelectorAll("button[data-copy-target][hidden]");
    for (var i = 0; i < buttons.length; i += 1) {
      buttons[i].hidden = false;
    }
  }

  function statusFor(button) {
    var next = button.nextElementSibling;
    return next && next.classList.contains("copy-status") ? next : null;
  }

  function say(button, text) {
    var status = statusFor(button);
    if (!status) {
      return;
    }
    status.textContent = text;
    window.clearTimeout(status.copyTimer);
    status.copyTimer = window.setTimeout(function () {
      status.textContent = "";
    }, STATUS_VISIBLE_MS);
  }

  document.addEventListener("click", function (event) {
    var target = event.target;
    var button = target instanceof Element ? target.closest("button[data-copy-target]") : null;
    if (!button) {
      return;
    }
    var source = document.getElementById(button.getAttribute("data-copy-target") || "");
    if (!source) {
      return;
    }
    navigator.clipboard.writeText(source.textContent.trim()).then(
      function () {
        say(button, button.getAttribute("data-copied") || "");
      },
      function () {
        say(button, button.getAttribute("data-copy-failed") || "");
      }
    );
  });

  enableCopyButtons(document);
  document.addEventListener("htmx:afterSettle", function (event) {
    var detail = event.detail || {};
    var target = detail.target instanceof Element && detail.target.isConnected ? detail.target : document;
    enableCopyButtons(target);
  });

  /* ---------- Progress while a full page loads ---------- */

  function progressBar() {
    return document.getElementById("page-progress");
  }

  function setNavigating(on) {
    var bar = progressBar();
    if (bar) {
      bar.classList.toggle(NAVIGATING_CLASS, on);
    }
    var main = document.getElementById("main");
    if (main) {
      if (on) {
        main.setAttribute("aria-busy", "true");
      } else {
        main.removeAttribute("aria-busy");
      }
    }
  }

  function withModifier(event) {
    return event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey;
  }

  // Whether following this link replaces this page: not a download, another window, another
  // program (mailto:, tel:) or a jump within the page.
  function linkLeavesPage(link) {
    if (link.hasAttribute("download")) {
      return false;
    }
    var target = link.getAttribute("target");
    if (target && target !== "_self") {
      return false;
    }
    var url = new URL(link.href, window.location.href);
    if (url.protocol !== "http:" && url.protocol !== "https:") {
      return false;
    }
    var here = window.location;
    return !(url.hash && url.pathname === here.pathname && url.search === here.search);
  }

  // Decided once every handler has seen the event: htmx prevents the default of the links and
  // forms it takes over (its own requests light the bar through hx-indicator).
  function afterHandlers(event, decide) {
    window.setTimeout(function () {
      if (!event.defaultPrevented && decide()) {
        setNavigating(true);
      }
    }, 0);
  }

  document.addEventListener("click", function (event) {
    var target = event.target;
    if (!(target instanceof Element) || withModifier(event)) {
      return;
    }
    var link = target.closest("a[href]");
    if (link) {
      afterHandlers(event, function () {
        return linkLeavesPage(link);
      });
      return;
    }
    // A row that opens its case (app.js), clicked outside its controls and not to select text.
    var row = target.closest("tr[data-href]");
    if (row && !target.closest("button, input, select, textarea, label, summary")) {
      afterHandlers(event, function () {
        var selection = window.getSelection();
        return !(selection && selection.toString().length > 0);
      });
    }
  });

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement)) {
      return;
    }
    afterHandlers(event, function () {
      var target = form.getAttribute("target");
      return form.method !== "dialog" && !(target && target !== "_self");
    });
  });

  // Back to this page from the browser's page cache: nothing is loading any more.
  window.addEventListener("pageshow", function () {
    setNavigating(false);
  });
})();
