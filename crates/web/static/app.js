// PlumberLeads — small progressive enhancements. Every page works without this file.
// Loaded with `defer` from base.html (CSP script-src 'self': no inline scripts anywhere).
//
// When an htmx request fails (no network, timeout, server error), say so in plain words
// in the #app-status live region instead of failing silently. 4xx answers other than
// 401/429 are left to the page (422 form errors are swapped in; see htmx-config in base.html).
(function () {
  "use strict";

  function region() {
    return document.getElementById("app-status");
  }

  function clear() {
    var el = region();
    if (el) el.replaceChildren();
  }

  function show(message) {
    var el = region();
    if (!el) return;
    var text = document.createElement("p");
    text.textContent = message;
    var close = document.createElement("button");
    close.type = "button";
    close.className = "button button--secondary";
    close.textContent = "Dismiss";
    close.addEventListener("click", clear);
    el.replaceChildren(text, close);
  }

  function offline() {
    show("We couldn’t reach PlumberLeads. Check your connection and try again.");
  }

  document.addEventListener("htmx:sendError", offline);
  document.addEventListener("htmx:timeout", offline);

  document.addEventListener("htmx:responseError", function (event) {
    var xhr = event.detail && event.detail.xhr;
    var status = xhr ? xhr.status : 0;
    if (status === 401) {
      show("You’ve been logged out. Please log in again to continue.");
    } else if (status === 429) {
      show("That was a lot of tries in a short time. Please wait a minute and try again.");
    } else if (status >= 500) {
      show("Something went wrong on our side. Please try again in a moment.");
    }
  });

  document.addEventListener("htmx:afterRequest", function (event) {
    if (event.detail && event.detail.successful) clear();
  });
})();

// Times: pages say them in UTC with the zone named (right without this file); here each
// <time data-local> is said in the reader's own time zone, zone named too.
(function () {
  "use strict";

  var format = new Intl.DateTimeFormat(undefined, {
    year: "numeric",
    month: "short",
    day: "numeric",
    hour: "numeric",
    minute: "2-digit",
    timeZoneName: "short",
  });

  function localise(root) {
    root.querySelectorAll("time[data-local]").forEach(function (el) {
      var at = new Date(el.getAttribute("datetime"));
      if (isNaN(at.getTime())) return;
      el.title = el.textContent;
      el.textContent = format.format(at);
      el.removeAttribute("data-local");
    });
  }

  localise(document);
  document.addEventListener("htmx:afterSwap", function (event) {
    localise(event.target);
  });
})();

// The profile's hours: one tap copies Monday (open or not, and its times) to Tuesday–Friday,
// instead of setting eight more time pickers by hand. Without scripts the button stays hidden.
(function () {
  "use strict";

  var button = document.getElementById("copy-weekdays");
  if (!button) return;
  var form = button.form;
  button.parentElement.hidden = false;

  function control(name) {
    return form.elements.namedItem(name);
  }

  button.addEventListener("click", function () {
    for (var day = 1; day <= 4; day++) {
      control("open_" + day).checked = control("open_0").checked;
      control("opens_" + day).value = control("opens_0").value;
      control("closes_" + day).value = control("closes_0").value;
    }
    button.textContent = "Copied — press Save hours to keep it";
  });
})();

// Recovery codes, shown once: a text file to keep, or the clipboard. Made here in the browser,
// so the codes are never sent anywhere again.
(function () {
  "use strict";

  var download = document.getElementById("recovery-download");
  var copy = document.getElementById("recovery-copy");
  if (!download || !copy) return;
  var codes = Array.prototype.map.call(document.querySelectorAll(".recovery-codes code"), function (c) {
    return c.textContent.trim();
  });
  var text =
    "PlumberLeads recovery codes (each signs you in once if you lose your authenticator):\n\n" +
    codes.join("\n") +
    "\n";
  download.href = URL.createObjectURL(new Blob([text], { type: "text/plain" }));
  download.parentElement.hidden = false;
  copy.addEventListener("click", function () {
    if (!navigator.clipboard) return;
    navigator.clipboard.writeText(text).then(function () {
      copy.textContent = "Copied";
    });
  });
})();
