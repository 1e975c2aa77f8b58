/* The machine picker of a new sharing, on top of its plain checkboxes (which work without this file):
   the list becomes one listbox with aria-multiselectable (one Tab stop; Up, Down, Home and End move; Space ticks;
   Ctrl+A ticks every machine shown), a counter of what is ticked (read by the announcer as it changes), chips of
   the ticked machines that untick them, and "Select all shown" for the rows the search left. htmx swaps the list
   as the search changes; the ticked machines always come back first, so nothing ticked is lost. */
(function () {
  "use strict";

  function rows(list) {
    return Array.prototype.slice.call(list.querySelectorAll("li")).filter(function (row) {
      return row.querySelector('input[type="checkbox"]');
    });
  }

  function box(row) {
    return row.querySelector('input[type="checkbox"]');
  }

  function nameOf(row) {
    var strong = row.querySelector("strong");
    var serial = row.querySelector(".mono");
    return (strong ? strong.textContent : "") + (serial ? " " + serial.textContent : "");
  }

  function format(template, values) {
    return template.replace(/%\((\w+)\)s/g, function (_match, key) {
      return values[key];
    });
  }

  function summarise(announce) {
    var summary = document.getElementById("machine-picker-summary");
    var list = document.getElementById("machine-list");
    if (!summary || !list) {
      return;
    }
    var ticked = rows(list).filter(function (row) {
      return box(row).checked;
    });
    var count = ticked.length;
    var text = summary.dataset.none;
    if (count === 1) {
      text = summary.dataset.one;
    } else if (count > 1) {
      text = format(summary.dataset.many, { count: count });
    }
    var counter = document.getElementById("machine-picker-count");
    if (counter.textContent !== text && announce && window.portal) {
      window.portal.announce(text);
    }
    counter.textContent = text;
    var chips = summary.querySelector(".chips");
    chips.textContent = "";
    ticked.forEach(function (row) {
      var item = document.createElement("li");
      var button = document.createElement("button");
      button.type = "button";
      button.className = "pick-chip";
      button.textContent = nameOf(row);
      button.setAttribute("aria-label", format(summary.dataset.remove, { name: nameOf(row) }));
      button.addEventListener("click", function () {
        box(row).checked = false;
        sync(list);
        summarise(true);
        list.focus();
      });
      item.appendChild(button);
      chips.appendChild(item);
    });
    chips.hidden = count === 0;
  }

  function sync(list) {
    rows(list).forEach(function (row) {
      row.setAttribute("aria-selected", box(row).checked ? "true" : "false");
    });
  }

  function activate(list, row) {
    rows(list).forEach(function (each) {
      each.classList.toggle("active", each === row);
    });
    if (row) {
      list.setAttribute("aria-activedescendant", row.id);
      row.scrollIntoView({ block: "nearest" });
    } else {
      list.removeAttribute("aria-activedescendant");
    }
  }

  function active(list) {
    var id = list.getAttribute("aria-activedescendant");
    return id ? document.getElementById(id) : null;
  }

  function enhance() {
    var list = document.getElementById("machine-list");
    var summary = document.getElementById("machine-picker-summary");
    if (!list || !summary || list.dataset.enhanced) {
      return;
    }
    list.dataset.enhanced = "true";
    list.setAttribute("role", "listbox");
    list.setAttribute("aria-multiselectable", "true");
    list.tabIndex = 0;
    rows(list).forEach(function (row, index) {
      row.id = "machine-option-" + index;
      row.setAttribute("role", "option");
      // The checkbox stays in the form (ticked ones are sent) but not on screen: the option says its state.
      box(row).hidden = true;
    });
    list.querySelectorAll("li.empty-line").forEach(function (row) {
      row.setAttribute("role", "option");
      row.setAttribute("aria-disabled", "true");
    });
    sync(list);
    summary.hidden = false;
    summarise(false);
  }

  function toggle(list, row) {
    if (row && box(row)) {
      box(row).checked = !box(row).checked;
      sync(list);
      summarise(true);
    }
  }

  document.addEventListener("keydown", function (event) {
    var list = event.target;
    if (!(list instanceof Element) || list.id !== "machine-list" || !list.dataset.enhanced) {
      return;
    }
    var all = rows(list);
    var index = all.indexOf(active(list));
    var next = null;
    if (event.key === "ArrowDown") {
      next = all[Math.min(index + 1, all.length - 1)];
    } else if (event.key === "ArrowUp") {
      next = all[Math.max(index - 1, 0)];
    } else if (event.key === "Home") {
      next = all[0];
    } else if (event.key === "End") {
      next = all[all.length - 1];
    } else if (event.key === " " || event.key === "Enter") {
      event.preventDefault(); // Enter ticks here, it does not submit the form
      toggle(list, active(list) || all[0]);
      if (!active(list)) {
        activate(list, all[0]);
      }
      return;
    } else if (event.key.toLowerCase() === "a" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      selectAll();
      return;
    } else {
      return;
    }
    event.preventDefault();
    if (next) {
      activate(list, next);
    }
  });

  document.addEventListener("focusin", function (event) {
    var list = event.target;
    if (list instanceof Element && list.id === "machine-list" && list.dataset.enhanced && !active(list)) {
      activate(list, rows(list)[0] || null);
    }
  });

  function selectAll() {
    var list = document.getElementById("machine-list");
    rows(list).forEach(function (row) {
      box(row).checked = true;
    });
    sync(list);
    summarise(true);
  }

  document.addEventListener("click", function (event) {
    if (event.target instanceof Element && event.target.closest("#machine-picker [data-select-all]")) {
      selectAll();
    }
  });

  document.addEventListener("change", function (event) {
    var list = document.getElementById("machine-list");
    if (list && event.target instanceof Element && list.contains(event.target)) {
      sync(list);
      summarise(true);
    }
  });

  document.addEventListener("htmx:afterSettle", function (event) {
    if (event.detail.elt && event.detail.elt.id === "machine-list") {
      enhance();
    }
  });

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", enhance);
  } else {
    enhance();
  }
})();
