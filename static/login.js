// kepgate login page: live status over EventSource (no polling), countdown, auto-continue.
// Everything works without this file: the forms post and the "Continue" button completes.
(function () {
  "use strict";

  // The button says what it does for the provider picked: «Отримати посилання», or «Увійти
  // через id.gov.ua» for one the browser goes to.
  var select = document.getElementById("provider");
  var startButton = document.getElementById("start-button");
  if (select && startButton) {
    var syncButton = function () {
      var option = select.options[select.selectedIndex];
      var words = option && option.getAttribute("data-button");
      if (words) { startButton.textContent = words; }
    };
    select.addEventListener("change", syncButton);
    syncButton();
  }

  // The «Ідентифікатор користувача» field only for providers that take one.
  var hintField = document.getElementById("hint-field");
  if (select && hintField) {
    var hintLabel = document.getElementById("hint-label");
    var hintInput = document.getElementById("user_hint");
    var sync = function () {
      var option = select.options[select.selectedIndex];
      var label = option && option.getAttribute("data-hint");
      hintField.hidden = !label;
      hintInput.required = !!label;
      if (label) { hintLabel.textContent = label; }
    };
    select.addEventListener("change", sync);
    sync();
  }

  var wait = document.getElementById("login-wait");
  if (!wait) { return; }
  var statusLine = document.getElementById("status");
  var statusText = document.getElementById("status-text");
  var linkBlock = document.getElementById("link-block");
  var restart = document.getElementById("restart");
  var form = document.getElementById("complete-form");
  var countdown = document.getElementById("countdown");
  // The state that ends the wait well: a login's "confirmed", a signing's "signed".
  var doneState = wait.getAttribute("data-done-state") || "confirmed";
  var deadline = Date.now() + 1000 * parseInt(wait.getAttribute("data-seconds-left") || "0", 10);
  var finished = false;

  function show(state, message) {
    wait.setAttribute("data-state", state);
    statusLine.className = "status status-" + state;
    if (message) { statusText.textContent = message; }
    if (state === doneState) {
      finished = true;
      if (form) { form.submit(); }
    } else if (state !== "pending") {
      finished = true;
      // "Confirm on your phone" no longer holds: the heading says it is over, the status why.
      var heading = document.getElementById("wait-heading");
      if (heading) {
        heading.textContent = heading.getAttribute("data-ended");
        document.title = heading.textContent + document.title.slice(document.title.indexOf(" · "));
      }
      if (linkBlock) { linkBlock.hidden = true; }
      if (form) { form.hidden = true; }
      if (restart) { restart.hidden = false; }
    }
  }

  // At 0 the link has expired: said then, by the page itself, also when the live status is
  // cut off (the server's own word follows, and wins should the login have ended otherwise).
  if (countdown && wait.getAttribute("data-state") === "pending") {
    var tick = function () {
      if (finished) { return; }
      var ms = deadline - Date.now();
      var left = Math.max(0, Math.ceil(ms / 1000));
      countdown.textContent = String(left);
      if (left > 0) {
        window.setTimeout(tick, Math.max(50, ms - (left - 1) * 1000));
      } else {
        show("expired", wait.getAttribute("data-expired-message"));
      }
    };
    tick();
  }

  var initial = wait.getAttribute("data-state");
  // Confirmed while this page was being (re)loaded: finish at once.
  if (initial === doneState && form) { form.submit(); return; }
  // The continue button is for the no-JavaScript path; with live status it is not needed.
  if (form && window.EventSource) { form.hidden = true; }
  if (!window.EventSource || initial !== "pending") { return; }
  var source = new EventSource(wait.getAttribute("data-events"));
  // Rotating QR: a new short link every few seconds while pending.
  source.addEventListener("qr", function (e) {
    var data = JSON.parse(e.data);
    var link = document.getElementById("deeplink");
    var code = document.querySelector("#qr .qr-code");
    if (link) { link.href = data.link; }
    if (code && window.fetch) {
      window.fetch(data.qr_url, { credentials: "same-origin", cache: "no-store" })
        .then(function (r) { return r.ok ? r.text() : null; })
        .then(function (svg) { if (svg && svg.indexOf("<svg") >= 0) { code.innerHTML = svg; } })
        .catch(function () { /* the next rotation tries again */ });
    }
  });
  source.addEventListener("state", function (e) {
    var data = JSON.parse(e.data);
    if (data.state !== "pending") { source.close(); }
    show(data.state, data.message);
  });
})();
