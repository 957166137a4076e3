// The inbox keeps itself current: each event on the live feed fetches the live part of the page
// again (offers, buyer counts, wallet), and the time left on each offer counts down.
(function () {
  "use strict";
  var live = document.getElementById("inbox-live");
  if (!live) return;

  function refresh() {
    fetch("/pro/offers?part=live", { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) {
        if (!html) return;
        var current = document.getElementById("inbox-live");
        var box = document.createElement("div");
        box.innerHTML = html;
        var fresh = box.querySelector("#inbox-live");
        if (current && fresh) { current.replaceWith(fresh); tick(); }
      })
      .catch(function () { /* the next event or a reload tries again */ });
  }

  function tick() {
    var now = Date.now();
    document.querySelectorAll("[data-expires]").forEach(function (el) {
      var left = Math.floor((Date.parse(el.getAttribute("data-expires")) - now) / 1000);
      if (left <= 0) { el.textContent = "Expired"; return; }
      var m = Math.floor(left / 60), s = left % 60;
      el.textContent = m + ":" + (s < 10 ? "0" : "") + s + " left";
    });
  }

  if (window.EventSource) {
    var feed = new EventSource("/pro/offers/events");
    ["offer.created", "offer.taken", "offer.closed", "wallet.changed"].forEach(function (kind) {
      feed.addEventListener(kind, refresh);
    });
  }
  tick();
  setInterval(tick, 1000);
})();
