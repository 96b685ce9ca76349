/*
 * The clinic's chat widget. A page embeds it with one script tag:
 *
 *   <script src="https://assistant.example.org/webhooks/web/static/widget.js" defer
 *           data-clinic-name="Riverbend Spine Clinic"
 *           data-clinic-phone="(555) 555-0100"></script>
 *
 * Optional: data-open="true" opens the chat when the page loads; any element with the
 * attribute data-clinic-chat-open opens the chat when clicked. The widget loads its CSS
 * and the socket.io client from the same folder as this file: nothing from a CDN.
 *
 * This file is the loader: it stays a classic script so the embed tag above works as it
 * is (document.currentScript and its data-* attributes), then imports the widget's ES
 * modules from widget/ beside it (no build step):
 *   widget/main.js        start(): the clinic's details, build, reopen a saved session
 *   widget/view.js        the launcher, panel, messages, urgent answers, status, modality
 *   widget/connection.js  socket.io: the session, sending, messages queued while offline
 *   widget/dom.js         elements from text only, tel: links, icons
 *   widget/storage.js     the session in sessionStorage
 *   widget/state.js       what the modules share
 *
 * Every message is shown as text (textContent), never as markup. Phone numbers in the
 * assistant's answers become tel: links built from their digits only.
 */
(function () {
  "use strict";

  var script = document.currentScript;
  if (!script || window.ClinicChat) {
    return;
  }
  var staticBase = new URL(".", script.src);
  var setup = {
    config: script.dataset || {},
    staticBase: staticBase,
    channelBase: new URL("..", staticBase)
  };
  var widget = null;

  window.ClinicChat = {
    open: function () {
      if (widget) {
        widget.open();
      }
    },
    close: function () {
      if (widget) {
        widget.close();
      }
    }
  };

  // the widget appears once its CSS is in, so it never shows unstyled
  var styled = false;
  var css = document.createElement("link");
  css.rel = "stylesheet";
  css.href = new URL("widget.css", staticBase).href;
  css.onload = css.onerror = function () {
    styled = true;
    if (widget && widget.ui.root) {
      widget.ui.root.hidden = false;
    }
  };
  document.head.appendChild(css);

  var parsed = new Promise(function (resolve) {
    if (document.readyState === "loading") {
      document.addEventListener("DOMContentLoaded", resolve);
    } else {
      resolve();
    }
  });
  Promise.all([import(new URL("widget/main.js", staticBase).href), parsed]).then(function (done) {
    widget = done[0];
    widget.start(setup);
    widget.ui.root.hidden = !styled;
  });
})();
