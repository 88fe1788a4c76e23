/* A form sent from a page stays where the reader left it. htmx sends a boosted form and
   puts the answer in place of the page's body, scrolled to the top; when the answer is
   the same page again (the form refused with its message, or done and led back to the
   page), the form, or the entry or section around it, is put back at the height it had
   on the screen. A refusal's message is brought into view too and takes the focus, so it
   is read out and the next Tab goes on to the form. */
(function () {
  "use strict";

  var sent = null;

  function places(form) {
    // The form and what holds it, innermost first, by id: the first of them still on
    // the answered page is put back where it was (a redacted note's form is gone, its
    // entry is not). main and above hold everything and say nothing.
    var found = [];
    for (var element = form; element && element.id !== "main"; element = element.parentElement) {
      if (element.id) {
        found.push({ id: element.id, top: element.getBoundingClientRect().top });
      }
    }
    return found;
  }

  function samePage(xhr, action) {
    // A refusal shows the page again from the form's own address; a success leads back
    // to the page (a 303 to its address, perhaps with a #part). A success answered from
    // the form's address itself is a page of its own (a secret shown once, the outcome
    // of a test), read from the top.
    if (xhr.status >= 400) {
      return true;
    }
    var answered = new URL(xhr.responseURL || action, window.location.href).pathname;
    return answered !== action && answered === window.location.pathname;
  }

  function putBack(held) {
    for (var i = 0; i < held.length; i += 1) {
      var element = document.getElementById(held[i].id);
      if (element !== null) {
        window.scrollBy(0, element.getBoundingClientRect().top - held[i].top);
        return true;
      }
    }
    return false;
  }

  function showRefusal() {
    var message = document.querySelector("[data-form-error]");
    if (message === null) {
      return;
    }
    var box = message.getBoundingClientRect();
    if (box.top < 0 || box.bottom > window.innerHeight) {
      message.scrollIntoView({ block: "nearest" });
    }
    message.setAttribute("tabindex", "-1");
    message.focus({ preventScroll: true });
  }

  document.addEventListener("htmx:beforeRequest", function (event) {
    var form = event.detail.elt;
    if (event.detail.boosted && form.tagName === "FORM" && form.method === "post") {
      var action = new URL(form.getAttribute("action") || "", window.location.href).pathname;
      sent = { xhr: event.detail.xhr, action: action, held: places(form) };
    }
  });

  document.addEventListener("htmx:beforeSwap", function (event) {
    if (sent === null || event.detail.xhr !== sent.xhr) {
      return;
    }
    if (samePage(event.detail.xhr, sent.action)) {
      // Not to the top: the form is put back after the swap.
      event.detail.swapOverride = "innerHTML show:none";
      sent.refused = event.detail.xhr.status >= 400;
    } else {
      sent = null;
    }
  });

  document.addEventListener("htmx:afterSwap", function () {
    if (sent === null || sent.refused === undefined) {
      return;
    }
    var done = sent;
    sent = null;
    if (!putBack(done.held)) {
      window.scrollTo(0, 0);
    }
    if (done.refused) {
      showRefusal();
    }
  });

  document.addEventListener("htmx:afterRequest", function (event) {
    // After the swap, if there was one: an answer not swapped leaves nothing to put back.
    if (sent !== null && event.detail.xhr === sent.xhr) {
      sent = null;
    }
  });
})();
