/* The combobox of ARIA 1.2 for a text field whose suggestions htmx fetches as it is typed (the recipient of a new
   sharing): <input role="combobox" aria-controls="LIST" aria-expanded aria-autocomplete="list"> and
   <ul id="LIST" role="listbox"> of <li role="option" id=...>, each option picked by its click (an hx-get).

   Focus never leaves the field: Down and Up move the active option (aria-activedescendant, aria-selected), Enter
   picks it, Escape closes the list (a second Escape clears the field), Alt+Down opens it again. The list says how
   many it found through the portal's announcer (data-announce on the list, static/js/portal.js).
   Listeners are on the document, so a combobox swapped in by htmx works like the one the page came with. */
(function () {
  "use strict";

  function listOf(input) {
    return document.getElementById(input.getAttribute("aria-controls"));
  }

  function options(list) {
    return list ? Array.prototype.slice.call(list.querySelectorAll('[role="option"]')) : [];
  }

  function activate(input, option) {
    var list = listOf(input);
    options(list).forEach(function (each) {
      each.setAttribute("aria-selected", each === option ? "true" : "false");
      each.classList.toggle("active", each === option);
    });
    if (option) {
      input.setAttribute("aria-activedescendant", option.id);
      option.scrollIntoView({ block: "nearest" });
    } else {
      input.removeAttribute("aria-activedescendant");
    }
  }

  function open(input, isOpen) {
    var list = listOf(input);
    var shown = isOpen && options(list).length > 0;
    if (list) {
      list.hidden = !shown;
    }
    input.setAttribute("aria-expanded", shown ? "true" : "false");
    if (!shown) {
      activate(input, null);
    }
  }

  function active(input) {
    var id = input.getAttribute("aria-activedescendant");
    return id ? document.getElementById(id) : null;
  }

  function move(input, step) {
    var all = options(listOf(input));
    if (!all.length) {
      return;
    }
    open(input, true);
    var index = all.indexOf(active(input));
    var next = index === -1 ? (step > 0 ? 0 : all.length - 1) : (index + step + all.length) % all.length;
    activate(input, all[next]);
  }

  document.addEventListener("keydown", function (event) {
    var input = event.target;
    if (!(input instanceof HTMLInputElement) || input.getAttribute("role") !== "combobox") {
      return;
    }
    var expanded = input.getAttribute("aria-expanded") === "true";
    switch (event.key) {
      case "ArrowDown":
        event.preventDefault();
        if (event.altKey) {
          open(input, true);
        } else {
          move(input, 1);
        }
        break;
      case "ArrowUp":
        event.preventDefault();
        move(input, -1);
        break;
      case "Enter":
        if (expanded && active(input)) {
          event.preventDefault(); // picks the option, does not submit the form
          active(input).click();
        }
        break;
      case "Escape":
        if (expanded) {
          event.preventDefault();
          open(input, false);
        } else if (input.value) {
          event.preventDefault();
          input.value = "";
        }
        break;
      default:
        break;
    }
  });

  // The list htmx swapped in: open when it has options, nothing active yet.
  document.addEventListener("htmx:afterSettle", function (event) {
    var list = event.detail.elt;
    if (!(list instanceof Element) || list.getAttribute("role") !== "listbox" || !list.id) {
      return;
    }
    var input = document.querySelector('[role="combobox"][aria-controls="' + list.id + '"]');
    if (input) {
      open(input, document.activeElement === input);
    }
  });

  // A click on an option must not take focus from the field first (the list would close under the pointer).
  document.addEventListener("mousedown", function (event) {
    if (event.target instanceof Element && event.target.closest('[role="listbox"] [role="option"]')) {
      event.preventDefault();
    }
  });

  document.addEventListener("focusout", function (event) {
    var input = event.target;
    if (input instanceof HTMLInputElement && input.getAttribute("role") === "combobox") {
      open(input, false);
    }
  });
})();
