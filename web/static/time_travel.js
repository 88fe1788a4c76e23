/* Time travel: dragging the slider of form#time-travel shows the incident as recorded at
   the chosen log position without reloading the page (the form's Show button does the
   same without JavaScript). The slider snaps to the positions of the incident's events,
   listed with their times in data-moments. */
(function () {
  "use strict";

  var DEBOUNCE_MS = 200;
  var timer = null;

  function moments(bar) {
    return JSON.parse(bar.getAttribute("data-moments") || "[]");
  }

  function snap(list, value, previous) {
    // Towards where the slider moved, so a keyboard step never snaps back to where it was.
    var below = list[0];
    var above = list[list.length - 1];
    list.forEach(function (moment) {
      if (moment[0] <= value && moment[0] > below[0]) { below = moment; }
      if (moment[0] >= value && moment[0] < above[0]) { above = moment; }
    });
    if (value < previous) { return below; }
    if (value > previous) { return above; }
    return value - below[0] <= above[0] - value ? below : above;
  }

  function label(bar, moment, isNow) {
    var text = bar.querySelector("#as-of-label");
    var time = document.createElement("time");
    time.textContent = moment[1];
    text.replaceChildren(time, document.createTextNode(
      " · log position " + moment[0] + (isNow ? " (now)" : "")));
    bar.querySelector("#as-of-slider").setAttribute("aria-valuetext", moment[1]);
  }

  function show(bar, position, isNow) {
    var base = bar.getAttribute("data-base");
    var query = isNow ? "" : "?as_of=" + position;
    var url = base + "/fragments/view" + query;
    var view = document.getElementById("incident-view");
    window.history.replaceState(window.history.state, "", base + query);
    if (window.htmx) {
      window.htmx.ajax("GET", url, { source: view, target: view, swap: "outerHTML" });
      return;
    }
    fetch(url, { credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        if (html !== null && view.isConnected) {
          view.outerHTML = html;
          document.dispatchEvent(new CustomEvent("incident:swapped"));
        }
      });
  }

  function moved(event) {
    var slider = event.target;
    if (slider.id !== "as-of-slider") {
      return;
    }
    var bar = slider.closest("#time-travel");
    var list = moments(bar);
    if (list.length === 0) {
      return;
    }
    var previous = Number(slider.getAttribute("data-shown") || slider.getAttribute("value"));
    var moment = snap(list, Number(slider.value), previous);
    slider.setAttribute("data-shown", String(moment[0]));
    var isNow = moment[0] === Number(bar.getAttribute("data-newest"));
    slider.value = String(moment[0]);
    label(bar, moment, isNow);
    window.clearTimeout(timer);
    timer = window.setTimeout(show, DEBOUNCE_MS, bar, moment[0], isNow);
  }

  document.addEventListener("input", moved);
})();
