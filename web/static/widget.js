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
 * Every message is shown as text (textContent), never as markup. Phone numbers in the
 * assistant's answers become tel: links built from their digits only.
 */
(function () {
  "use strict";

  var script = document.currentScript;
  if (!script || window.ClinicChat) {
    return;
  }
  var config = script.dataset || {};
  var staticBase = new URL(".", script.src);
  var channelBase = new URL("..", staticBase);
  var STORE_KEY = "clinic-chat:" + channelBase.href;
  var PHONE = /(?:\+?1[\s.-]?)?(?:\(\d{3}\)|\d{3})[\s.-]?\d{3}[\s.-]?\d{4}|\b911\b/g;

  var clinic = {
    name: config.clinicName || "the clinic",
    phone: config.clinicPhone || "",
    phoneHref: telHref(config.clinicPhone || "")
  };

  // ---------------------------------------------------------------- storage
  var memory = {};
  var store = {
    get: function (key) {
      try {
        return window.sessionStorage.getItem(key);
      } catch (e) {
        return memory[key] || null;
      }
    },
    set: function (key, value) {
      try {
        window.sessionStorage.setItem(key, value);
      } catch (e) {
        memory[key] = value;
      }
    }
  };

  function saved() {
    try {
      return JSON.parse(store.get(STORE_KEY) || "{}") || {};
    } catch (e) {
      return {};
    }
  }

  function save(changes) {
    var state = saved();
    Object.keys(changes).forEach(function (key) {
      state[key] = changes[key];
    });
    store.set(STORE_KEY, JSON.stringify(state));
  }

  // ---------------------------------------------------------------- DOM helpers
  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) {
      if (key === "text") {
        node.textContent = attrs[key];
      } else if (key === "className") {
        node.className = attrs[key];
      } else {
        node.setAttribute(key, attrs[key]);
      }
    });
    (children || []).forEach(function (child) {
      if (child) {
        node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
      }
    });
    return node;
  }

  function telHref(number) {
    var digits = String(number).replace(/\D/g, "");
    if (digits === "911") {
      return "tel:911";
    }
    if (digits.length === 10) {
      return "tel:+1" + digits;
    }
    if (digits.length === 11 && digits.charAt(0) === "1") {
      return "tel:+" + digits;
    }
    return digits.length >= 3 ? "tel:" + digits : "";
  }

  function safeTel(href) {
    return typeof href === "string" && /^tel:\+?\d{3,15}$/.test(href) ? href : "";
  }

  /* Text with phone numbers (and 911) as tel: links; everything else stays text. */
  function textWithPhones(text) {
    var fragment = document.createDocumentFragment();
    var last = 0;
    String(text).replace(PHONE, function (match, offset) {
      var href = telHref(match);
      if (offset > last) {
        fragment.appendChild(document.createTextNode(text.slice(last, offset)));
      }
      fragment.appendChild(
        href ? el("a", { href: href, className: "ccw-tel", text: match }) : document.createTextNode(match)
      );
      last = offset + match.length;
      return match;
    });
    if (last < text.length) {
      fragment.appendChild(document.createTextNode(text.slice(last)));
    }
    return fragment;
  }

  function icon(kind) {
    var ns = "http://www.w3.org/2000/svg";
    var svg = document.createElementNS(ns, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    svg.setAttribute("class", "ccw-icon");
    var path = document.createElementNS(ns, "path");
    var shapes = {
      chat: "M4 4h16v11H8l-4 4z",
      alert: "M12 2 1 21h22zm-1 7h2v6h-2zm0 8h2v2h-2z",
      phone:
        "M6.6 10.8a15 15 0 0 0 6.6 6.6l2.2-2.2c.3-.3.7-.4 1-.2 1.1.4 2.3.6 3.6.6.6 0 1 .4 1 " +
        "1V20c0 .6-.4 1-1 1A17 17 0 0 1 3 4c0-.6.4-1 1-1h3.5c.6 0 1 .4 1 1 0 1.3.2 2.5.6 " +
        "3.6.1.3 0 .7-.2 1z"
    };
    path.setAttribute("d", shapes[kind]);
    path.setAttribute("fill", "currentColor");
    svg.appendChild(path);
    return svg;
  }

  // ---------------------------------------------------------------- the widget
  var ui = {};

  function build() {
    ui.launcher = el("button", {
      type: "button",
      className: "ccw-launcher",
      "aria-expanded": "false",
      "aria-controls": "ccw-panel"
    }, [icon("chat"), el("span", { text: "Questions? Chat with us" })]);

    ui.title = el("h2", { id: "ccw-title", className: "ccw-title", text: clinic.name + " assistant" });
    ui.close = el("button", { type: "button", className: "ccw-close" }, [
      el("span", { "aria-hidden": "true", text: "\u00d7" }),
      el("span", { text: "Close" })
    ]);
    ui.clinicLink = el("a", { className: "ccw-tel" });
    ui.emergency = el("p", { className: "ccw-emergency" }, [
      "Emergency? ",
      el("a", { href: "tel:911", className: "ccw-tel", text: "Call 911" }),
      ". To talk to a person, call ",
      ui.clinicLink,
      "."
    ]);
    ui.status = el("p", { className: "ccw-status", role: "status" });
    ui.messages = el("ol", { className: "ccw-messages" });
    ui.typing = el("p", { className: "ccw-typing", hidden: "" }, [
      el("span", { className: "ccw-dots", "aria-hidden": "true" }, [el("span"), el("span"), el("span")]),
      el("span", { text: "The assistant is typing\u2026" })
    ]);
    ui.log = el("div", {
      className: "ccw-log",
      role: "region",
      "aria-label": "Conversation",
      tabindex: "0"
    }, [ui.messages, ui.typing]);
    ui.input = el("textarea", {
      id: "ccw-input",
      className: "ccw-input",
      rows: "2",
      maxlength: "2000",
      autocomplete: "off",
      "aria-describedby": "ccw-hint",
      placeholder: "Type your question"
    });
    ui.send = el("button", { type: "submit", className: "ccw-send", text: "Send" });
    ui.form = el("form", { className: "ccw-form" }, [
      el("label", { "for": "ccw-input", className: "ccw-label", text: "Type your question" }),
      el("div", { className: "ccw-row" }, [ui.input, ui.send]),
      el("p", {
        id: "ccw-hint",
        className: "ccw-hint",
        text: "Press Enter to send. Shift and Enter starts a new line."
      })
    ]);
    ui.polite = el("div", { className: "ccw-sr", "aria-live": "polite", "aria-atomic": "false" });
    ui.assertive = el("div", { className: "ccw-sr", role: "alert" });
    ui.panel = el("section", {
      id: "ccw-panel",
      className: "ccw-panel",
      role: "dialog",
      "aria-modal": "false",
      "aria-labelledby": "ccw-title",
      hidden: ""
    }, [
      el("div", { className: "ccw-header" }, [
        el("div", { className: "ccw-heading" }, [
          ui.title,
          el("p", {
            className: "ccw-sub",
            text: "Answers about vertebroplasty and kyphoplasty. Not a doctor."
          })
        ]),
        ui.close
      ]),
      ui.emergency,
      ui.status,
      ui.log,
      ui.form,
      ui.polite,
      ui.assertive
    ]);
    ui.root = el("div", { className: "ccw", "data-state": "closed" }, [ui.panel, ui.launcher]);
    showClinic();
    document.body.appendChild(ui.root);

    ui.launcher.addEventListener("click", function () {
      if (ui.panel.hidden) {
        open();
      } else {
        close();
      }
    });
    ui.close.addEventListener("click", close);
    ui.panel.addEventListener("keydown", function (event) {
      if (event.key === "Escape") {
        close();
      }
    });
    ui.form.addEventListener("submit", function (event) {
      event.preventDefault();
      submit();
    });
    ui.input.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        submit();
      }
    });
    if (fullScreen.addEventListener) {
      fullScreen.addEventListener("change", updateModal);
    }
    Array.prototype.forEach.call(document.querySelectorAll("[data-clinic-chat-open]"), function (node) {
      node.addEventListener("click", function (event) {
        event.preventDefault();
        open();
      });
    });
  }

  function showClinic() {
    ui.title.textContent = clinic.name + " assistant";
    ui.clinicLink.textContent = clinic.phone || "the clinic";
    var href = safeTel(clinic.phoneHref);
    if (href) {
      ui.clinicLink.setAttribute("href", href);
    } else {
      ui.clinicLink.removeAttribute("href");
    }
  }

  function open(keepFocus) {
    if (!ui.panel) {
      return;
    }
    ui.panel.hidden = false;
    ui.root.setAttribute("data-state", "open");
    ui.launcher.setAttribute("aria-expanded", "true");
    save({ open: true });
    updateModal();
    connect();
    if (!keepFocus) {
      ui.input.focus();
    }
  }

  function close() {
    if (!ui.panel) {
      return;
    }
    ui.panel.hidden = true;
    ui.root.setAttribute("data-state", "closed");
    ui.launcher.setAttribute("aria-expanded", "false");
    save({ open: false });
    updateModal();
    ui.launcher.focus();
  }

  /*
   * Where the chat covers the whole screen (phones, large zoom) it acts as a modal
   * dialog: the page behind it is made inert, so Tab and screen readers stay in the chat.
   */
  var fullScreen = window.matchMedia("(max-width: 30rem), (max-height: 34rem)");
  var inerted = [];

  function updateModal() {
    var modal = !ui.panel.hidden && fullScreen.matches;
    ui.panel.setAttribute("aria-modal", modal ? "true" : "false");
    if (modal) {
      Array.prototype.forEach.call(document.body.children, function (node) {
        if (node !== ui.root && !node.inert) {
          node.inert = true;
          inerted.push(node);
        }
      });
    } else {
      inerted.forEach(function (node) {
        node.inert = false;
      });
      inerted = [];
    }
  }

  function setStatus(kind, text) {
    ui.status.setAttribute("data-kind", kind);
    ui.status.textContent = "";
    ui.status.appendChild(textWithPhones(text));
  }

  /*
   * Keep the patient's last message and the start of the answer in view: a long answer,
   * or an urgent one followed by more messages, is read from its beginning.
   */
  function scrollToTurn() {
    var users = ui.messages.querySelectorAll(".ccw-user");
    var anchor = users.length ? users[users.length - 1] : ui.messages.firstChild;
    // on short screens (large zoom) the whole panel scrolls, not just the conversation
    var whole = window.getComputedStyle(ui.log).overflowY === "visible";
    var box = whole ? ui.panel : ui.log;
    var bottom = box.scrollHeight - box.clientHeight;
    var top = anchor ? anchor.offsetTop - 8 + (whole ? ui.log.offsetTop : 0) : bottom;
    box.scrollTop = Math.min(top, bottom);
  }

  function announce(text, urgent) {
    var region = urgent ? ui.assertive : ui.polite;
    var line = el("p", { text: text });
    region.appendChild(line);
    while (region.childNodes.length > 3) {
      region.removeChild(region.firstChild);
    }
  }

  function clearQuickReplies() {
    var hadFocus = ui.messages.contains(document.activeElement) &&
      document.activeElement.classList.contains("ccw-reply");
    Array.prototype.forEach.call(ui.messages.querySelectorAll(".ccw-replies"), function (group) {
      group.parentNode.removeChild(group);
    });
    if (hadFocus) {
      ui.input.focus();
    }
  }

  function renderUser(text, pending) {
    var item = el("li", { className: "ccw-msg ccw-user" }, [
      el("span", { className: "ccw-sr", text: "You said: " }),
      el("p", { className: "ccw-text", text: text })
    ]);
    if (pending) {
      item.classList.add("ccw-pending");
      item.appendChild(el("p", { className: "ccw-note", text: "Waiting to send\u2026" }));
    }
    ui.messages.appendChild(item);
    scrollToTurn();
    return item;
  }

  function urgentBox(urgent) {
    var emergency = urgent.tier === "emergency";
    var calls = el("div", { className: "ccw-calls" });
    (Array.isArray(urgent.calls) ? urgent.calls : []).forEach(function (call) {
      var href = safeTel(call && call.href);
      if (!href) {
        return;
      }
      var is911 = href === "tel:911";
      calls.appendChild(el("a", { href: href, className: "ccw-call" + (is911 ? " ccw-call-911" : "") }, [
        icon("phone"),
        el("span", {}, [
          String(call.label || "Call"),
          is911 ? null : " ",
          is911 ? null : el("span", { className: "ccw-number", text: String(call.number || "") })
        ])
      ]));
    });
    return {
      title: el("p", { className: "ccw-urgent-title" }, [
        icon("alert"),
        el("span", {
          text: emergency ? "Emergency: call 911 now" : "Urgent: call the clinic now"
        })
      ]),
      calls: calls
    };
  }

  function renderBot(message, quiet) {
    if (!message || typeof message.text !== "string") {
      return null;
    }
    var item = el("li", { className: "ccw-msg ccw-bot" }, [
      el("span", { className: "ccw-sr", text: "Assistant said: " })
    ]);
    var urgent = message.urgent && typeof message.urgent === "object" ? message.urgent : null;
    var box = null;
    if (urgent) {
      // what to do comes first: the heading, the call buttons, then the assistant's words
      box = urgentBox(urgent);
      item.classList.add("ccw-urgent", urgent.tier === "emergency" ? "ccw-urgent-emergency" : "ccw-urgent-urgent");
      item.appendChild(box.title);
      item.appendChild(box.calls);
    }
    item.appendChild(el("p", { className: "ccw-text" }, [textWithPhones(message.text)]));
    var replies = Array.isArray(message.quick_replies) ? message.quick_replies : [];
    if (replies.length) {
      var group = el("div", { className: "ccw-replies", role: "group", "aria-label": "Suggested questions" });
      replies.forEach(function (reply) {
        if (!reply || typeof reply.payload !== "string") {
          return;
        }
        var button = el("button", { type: "button", className: "ccw-reply", text: String(reply.title || reply.payload) });
        button.addEventListener("click", function () {
          send(reply.payload);
        });
        group.appendChild(button);
      });
      item.appendChild(group);
    }
    ui.messages.appendChild(item);
    scrollToTurn();
    if (!quiet) {
      announce(
        (urgent ? (urgent.tier === "emergency" ? "Emergency. " : "Urgent. ") : "Assistant: ") + message.text,
        Boolean(urgent)
      );
    }
    return item;
  }

  function renderHistory(messages) {
    ui.messages.textContent = "";
    (Array.isArray(messages) ? messages : []).forEach(function (message) {
      if (message && message.from === "user" && typeof message.text === "string") {
        renderUser(message.text, false);
      } else if (message && message.from === "bot") {
        renderBot(message, true);
      }
    });
  }

  // ---------------------------------------------------------------- talking to the server
  var socket = null;
  var ready = false;
  var everConnected = false;
  var queue = []; // [text, list item] typed while not connected

  function offlineText() {
    var what = everConnected
      ? "Connection lost. Trying to reconnect\u2026 What you type will be sent when the connection is back."
      : "The assistant cannot be reached right now. Trying again\u2026";
    return what + " If it is urgent, call " + (clinic.phone || "the clinic") +
      ". In an emergency, call 911.";
  }

  function setTyping(on) {
    ui.typing.hidden = !on;
    if (on) {
      scrollToTurn();
    }
  }

  function connect() {
    if (socket) {
      return;
    }
    setStatus("connecting", "Connecting\u2026");
    loadClient(function (io) {
      if (!io) {
        setStatus("offline", "The chat could not start. Please call " + (clinic.phone || "the clinic") +
          ". In an emergency, call 911.");
        return;
      }
      socket = io(channelBase.origin, {
        path: channelBase.pathname + "socket.io",
        reconnectionDelay: 1000,
        reconnectionDelayMax: 5000,
        timeout: 10000
      });
      socket.on("connect", function () {
        socket.emit("session_request", { session_id: saved().session_id || null });
      });
      socket.on("session_confirm", function (data) {
        if (!data || typeof data.session_id !== "string") {
          return;
        }
        save({ session_id: data.session_id });
        if (data.clinic && typeof data.clinic === "object") {
          clinic.name = String(data.clinic.name || clinic.name);
          clinic.phone = String(data.clinic.phone || clinic.phone);
          clinic.phoneHref = String(data.clinic.phone_href || clinic.phoneHref);
          showClinic();
        }
        renderHistory(data.history);
        ready = true;
        everConnected = true;
        setStatus("online", "");
        flush();
      });
      socket.on("bot_uttered", function (message) {
        renderBot(message, false);
      });
      socket.on("bot_typing", function (data) {
        setTyping(Boolean(data && data.typing));
      });
      socket.on("disconnect", function () {
        ready = false;
        setTyping(false);
        setStatus("offline", offlineText());
      });
      socket.on("connect_error", function () {
        ready = false;
        setStatus("offline", offlineText());
      });
    });
  }

  function loadClient(done) {
    var previous = window.io;
    var tag = el("script", { src: new URL("vendor/socket.io.min.js", staticBase).href });
    tag.onload = function () {
      var io = window.io;
      if (previous) {
        window.io = previous;
      }
      done(typeof io === "function" ? io : null);
    };
    tag.onerror = function () {
      done(null);
    };
    document.head.appendChild(tag);
  }

  function flush() {
    while (ready && queue.length) {
      var next = queue.shift();
      next[1].classList.remove("ccw-pending");
      var note = next[1].querySelector(".ccw-note");
      if (note) {
        note.parentNode.removeChild(note);
      }
      socket.emit("user_uttered", { message: next[0] });
    }
  }

  function send(text) {
    clearQuickReplies();
    var item = renderUser(text, !ready);
    if (ready) {
      socket.emit("user_uttered", { message: text });
      setTyping(true);
    } else {
      queue.push([text, item]);
      connect();
    }
  }

  function submit() {
    var text = ui.input.value.trim();
    if (!text) {
      ui.input.focus();
      return;
    }
    ui.input.value = "";
    send(text);
    ui.input.focus();
  }

  function start() {
    build();
    var state = saved();
    if (config.open === "true" || (state.session_id && state.open)) {
      open(true);
    }
  }

  window.ClinicChat = { open: function () { open(); }, close: function () { close(); } };

  // the widget appears once its CSS is in, so it never shows unstyled
  var styled = false;
  var css = el("link", { rel: "stylesheet", href: new URL("widget.css", staticBase).href });
  css.onload = css.onerror = function () {
    styled = true;
    if (ui.root) {
      ui.root.hidden = false;
    }
  };
  document.head.appendChild(css);

  function begin() {
    start();
    ui.root.hidden = !styled;
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", begin);
  } else {
    begin();
  }
})();
