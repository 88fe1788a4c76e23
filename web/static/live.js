/* Live incident page: follows the incident's events on /events/stream (the session
   cookie signs the request) and, on each, fetches the page's live parts again
   (elements with data-live-fragment) so what others add appears without a reload.
   EventSource resumes after a dropped connection with Last-Event-ID by itself. */
(function () {
  "use strict";

  var source = null;
  var following = null;
  var timer = null;
  var retry = null;
  var REFRESH_DELAY_MS = 150;
  var REOPEN_AFTER_MS = 15000;
  var HOLD_RETRY_MS = 1000;
  // Boosted requests (a link followed, a form sent) under way: their answer replaces the
  // page. A part refreshed meanwhile would replace the link that was followed, and htmx
  // forgets a replaced element's state, so the new page would keep the old address.
  var navigating = 0;

  function swap(element, url) {
    // A form as htmx's source would send its own fields (the slider's old position).
    if (window.htmx && element.tagName !== "FORM") {
      // Each part is its own source: htmx keeps one request per source at a time.
      window.htmx.ajax("GET", url, { source: element, target: element, swap: "outerHTML" });
      return;
    }
    fetch(url, { credentials: "same-origin", headers: { "HX-Request": "true" } })
      .then(function (response) {
        if (response.redirected) {
          window.location.reload();
          return null;
        }
        return response.ok ? response.text() : null;
      })
      .then(function (html) {
        if (html !== null && element.isConnected) {
          var parent = element.parentNode;
          element.outerHTML = html;
          if (window.htmx) { window.htmx.process(parent); }
        }
      });
  }

  function refresh() {
    timer = null;
    if (navigating > 0) {
      return;
    }
    var held = false;
    document.querySelectorAll("[data-live-fragment]").forEach(function (element) {
      // A form opened inside the part (a note being redacted): swapping the part would
      // close it and wipe what was typed. The part waits until the form is closed or sent.
      if (element.querySelector("details[data-hold-live][open]") !== null) {
        held = true;
        return;
      }
      swap(element, element.getAttribute("data-live-fragment"));
    });
    if (held) {
      timer = window.setTimeout(refresh, HOLD_RETRY_MS);
    }
  }

  function schedule() {
    // A burst of events (a batch of alerts) costs one refresh.
    if (timer === null) {
      timer = window.setTimeout(refresh, REFRESH_DELAY_MS);
    }
  }

  function stop() {
    if (source !== null) {
      source.close();
      source = null;
    }
    if (retry !== null) {
      window.clearTimeout(retry);
      retry = null;
    }
    following = null;
  }

  function open(view, url) {
    var types = JSON.parse(view.getAttribute("data-event-types") || "[]");
    source = new EventSource(url);
    following = url.split("&")[0];
    types.forEach(function (type) {
      source.addEventListener(type, schedule);
    });
    source.addEventListener("message", schedule);
    source.addEventListener("error", function () {
      // Closed for good (a refusal such as 503): try again later from where the page is.
      if (source !== null && source.readyState === EventSource.CLOSED) {
        stop();
        retry = window.setTimeout(connect, REOPEN_AFTER_MS);
      }
    });
  }

  function connect() {
    var view = document.querySelector("[data-live-stream]");
    var url = view ? view.getAttribute("data-live-stream") : null;
    // The same incident keeps its stream: it already resumes where it left off.
    if (url !== null && following === url.split("&")[0] && source !== null) {
      return;
    }
    stop();
    if (url !== null) {
      open(view, url);
    }
  }

  document.addEventListener("htmx:beforeRequest", function (event) {
    if (event.detail.boosted) {
      navigating += 1;
      window.clearTimeout(timer);
      timer = null;
    }
  });
  document.addEventListener("htmx:afterRequest", function (event) {
    if (event.detail.boosted) {
      navigating = Math.max(0, navigating - 1);
    }
  });
  document.addEventListener("htmx:beforeSwap", function (event) {
    // A part's answer that arrives while the page is being replaced is dropped.
    var target = event.target;
    if (navigating > 0 && target.hasAttribute && target.hasAttribute("data-live-fragment")) {
      event.detail.shouldSwap = false;
    }
  });
  document.addEventListener("DOMContentLoaded", connect);
  document.addEventListener("htmx:afterSettle", connect);
  document.addEventListener("incident:swapped", connect);
  window.addEventListener("pagehide", stop);
})();
