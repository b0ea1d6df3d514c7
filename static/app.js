// Progressive enhancement only: every page works without this file. It adds copy buttons to
// values meant for Entra, and an optional automatic refresh of the parts marked data-live.
(function () {
  "use strict";

  var REFRESH_MS = 10000;
  // Per page: ticking it on one page does not turn it on for the others.
  var REFRESH_KEY = "jericho.autoRefresh:" + window.location.pathname;
  var announcer;

  function announce(message) {
    if (!announcer) {
      announcer = document.createElement("span");
      announcer.className = "visually-hidden";
      announcer.setAttribute("aria-live", "polite");
      document.body.appendChild(announcer);
    }
    announcer.textContent = "";
    window.setTimeout(function () { announcer.textContent = message; }, 50);
  }

  function selectContents(element) {
    var range = document.createRange();
    range.selectNodeContents(element);
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  }

  function flash(button, text) {
    var label = button.firstChild;
    var original = button.dataset.label || (button.dataset.label = label.textContent);
    label.textContent = text;
    window.setTimeout(function () { label.textContent = original; }, 2000);
  }

  function copy(button, target) {
    var text = target.textContent.trim();
    var hidden = button.querySelector(".visually-hidden");
    var what = hidden ? hidden.textContent.trim() : "";
    function copied() {
      flash(button, "Copied");
      announce("Copied " + what);
    }
    function fallback() {
      // Without the Clipboard API (plain http), select the text so Ctrl+C / Cmd+C copies it.
      selectContents(target);
      if (document.execCommand && document.execCommand("copy")) {
        copied();
      } else {
        flash(button, "Press Ctrl+C");
      }
    }
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(copied, fallback);
    } else {
      fallback();
    }
  }

  function setUpCopyButtons(root) {
    root.querySelectorAll("button[data-copy]").forEach(function (button) {
      var target = document.getElementById(button.dataset.copy);
      if (!target || !button.hidden) return;
      button.hidden = false;
      button.addEventListener("click", function () { copy(button, target); });
    });
  }

  function refresh(box, timer) {
    fetch(window.location.href, { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.text();
      })
      .then(function (html) {
        var fresh = new DOMParser().parseFromString(html, "text/html");
        document.querySelectorAll("[data-live]").forEach(function (region) {
          var update = fresh.getElementById(region.id);
          if (!update) {  // signed out, or the page changed: stop rather than guess
            box.checked = false;
            window.clearInterval(timer.id);
            return;
          }
          if (update.innerHTML !== region.innerHTML) {
            region.className = update.className;
            region.innerHTML = update.innerHTML;
            setUpCopyButtons(region);
          }
        });
      })
      .catch(function () { /* keep the page as it is; the next tick tries again */ });
  }

  function setUpAutoRefresh() {
    document.querySelectorAll("input[data-auto-refresh]").forEach(function (box) {
      var timer = { id: null };
      function apply() {
        window.clearInterval(timer.id);
        if (box.checked) timer.id = window.setInterval(function () { refresh(box, timer); }, REFRESH_MS);
        try { window.sessionStorage.setItem(REFRESH_KEY, box.checked ? "1" : ""); } catch (e) { /* private mode */ }
      }
      box.closest("label").hidden = false;
      try { box.checked = window.sessionStorage.getItem(REFRESH_KEY) === "1"; } catch (e) { /* private mode */ }
      box.addEventListener("change", apply);
      apply();
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    setUpCopyButtons(document);
    setUpAutoRefresh();
  });
})();
