/* The portal's behaviour around htmx swaps, the same for every swap of every page (no page has its own):

   - Focus: after a swap, focus goes into what was swapped in. The fragment says where with `data-focus` (a heading
     or question given tabindex="-1", a field, or a container whose first field takes it); a destructive step marks
     its question, never its "Yes" button. A swap that removed the focused element and marks nothing sends focus to
     the first heading of the new content, else its first control, else the content itself; never back to the top
     of the page.
   - Announcements: one live region (#announcer, in base.html, outside every swap target) reads short sentences.
     They come from `data-announce` on swapped-in content (its value, or the element's own text when empty), from
     an `announce` event (a response's `HX-Trigger: {"announce": "..."}`) or from other scripts through `window.portal.announce(text)`. On a full page load, `data-announce` elements (the
     messages after a redirect) are read too, and `data-focus` takes focus (an error summary).

   Loaded with `defer` from base.html; no inline script (the CSP allows only the app's own files). */
(function () {
  "use strict";

  var FOCUSABLE =
    'a[href], button:not([disabled]), input:not([disabled]):not([type="hidden"]), select:not([disabled]), ' +
    'textarea:not([disabled]), [tabindex]:not([tabindex="-1"])';

  function announcer() {
    return document.getElementById("announcer");
  }

  var pending = null;

  function announce(text) {
    var region = announcer();
    text = (text || "").replace(/\s+/g, " ").trim();
    if (!region || !text) {
      return;
    }
    // Cleared, then written on the next turn: the same sentence twice in a row is read twice.
    region.textContent = "";
    if (pending) {
      clearTimeout(pending.timer);
      text = pending.text + " " + text;
    }
    pending = {
      text: text,
      timer: setTimeout(function () {
        region.textContent = pending.text;
        pending = null;
      }, 150),
    };
  }

  function focusable(element) {
    return element.hasAttribute("tabindex") || element.matches(FOCUSABLE);
  }

  function focusInto(element) {
    var target = element;
    if (!focusable(element)) {
      // A container: its first field in error, or else its first field.
      target = element.querySelector('[aria-invalid="true"]') || element.querySelector(FOCUSABLE);
      if (!target) {
        element.setAttribute("tabindex", "-1");
        target = element;
      }
    }
    target.focus();
    return document.activeElement === target;
  }

  function within(roots, selector) {
    var found = [];
    roots.forEach(function (root) {
      if (!(root instanceof Element) || !root.isConnected) {
        return;
      }
      if (root.matches(selector)) {
        found.push(root);
      }
      root.querySelectorAll(selector).forEach(function (element) {
        found.push(element);
      });
    });
    return found;
  }

  function readAnnouncements(roots) {
    within(roots, "[data-announce]").forEach(function (element) {
      announce(element.getAttribute("data-announce") || element.textContent);
      element.removeAttribute("data-announce");
    });
  }

  function placeFocus(roots, focusWasLost) {
    var marked = within(roots, "[data-focus]");
    marked.forEach(function (element) {
      element.removeAttribute("data-focus");
    });
    if (marked.length && focusInto(marked[0])) {
      return;
    }
    if (!focusWasLost) {
      return;
    }
    var headings = within(roots, "h1, h2, h3");
    var root = roots.filter(function (element) {
      return element instanceof Element && element.isConnected;
    })[0];
    if (headings.length) {
      headings[0].setAttribute("tabindex", "-1");
      focusInto(headings[0]);
    } else if (root) {
      focusInto(root); // its first control (a row's link), or the content itself
    }
  }

  // A swap settles element by element (an outerHTML swap of several nodes, say): gather them, act once.
  var settled = [];
  var focusedBeforeSwap = null;

  document.addEventListener("htmx:beforeSwap", function () {
    focusedBeforeSwap = document.activeElement;
  });

  document.addEventListener("htmx:afterSettle", function (event) {
    settled.push(event.detail.elt || event.target);
    if (settled.length > 1) {
      return;
    }
    setTimeout(function () {
      var roots = settled;
      settled = [];
      var active = document.activeElement;
      var focusWasLost =
        !active ||
        active === document.body ||
        !active.isConnected ||
        (focusedBeforeSwap !== null && !focusedBeforeSwap.isConnected && active === focusedBeforeSwap);
      readAnnouncements(roots);
      placeFocus(roots, focusWasLost);
    }, 0);
  });

  // The server's sentences: HX-Trigger {"announce": "Sharing stopped."}.
  document.addEventListener("announce", function (event) {
    var detail = event.detail || {};
    announce(typeof detail === "string" ? detail : detail.value);
  });

  function onLoad() {
    readAnnouncements([document.body]);
    var marked = within([document.body], "[data-focus]");
    if (marked.length) {
      placeFocus([document.body], false);
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", onLoad);
  } else {
    onLoad();
  }

  window.portal = { announce: announce, focusInto: focusInto };
})();
