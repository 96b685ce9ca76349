// The widget on the page: launcher, panel, messages, urgent answers with call buttons,
// status line, screen-reader announcements, full screen on small screens.
import { clinic, ui } from "./state.js";
import { el, safeTel, textWithPhones, icon } from "./dom.js";
import { save } from "./storage.js";
import { connect, forgetMe, send, submit } from "./connection.js";

export function build() {
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
  // for shared computers: ends the session on the server and clears this browser's copy
  ui.forget = el("button", {
    type: "button",
    className: "ccw-close ccw-forget",
    "aria-describedby": "ccw-forget-hint"
  }, [el("span", { text: "Forget me" })]);
  ui.forgetHint = el("span", {
    id: "ccw-forget-hint",
    className: "ccw-sr",
    text: "Ends this chat and removes it from this browser. Use it on a shared computer."
  });
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
      el("div", { className: "ccw-actions" }, [ui.forget, ui.forgetHint, ui.close])
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
  ui.forget.addEventListener("click", function () {
    forgetMe();
    ui.input.focus();
  });
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

export function showClinic() {
  ui.title.textContent = clinic.name + " assistant";
  ui.clinicLink.textContent = clinic.phone || "the clinic";
  var href = safeTel(clinic.phoneHref);
  if (href) {
    ui.clinicLink.setAttribute("href", href);
  } else {
    ui.clinicLink.removeAttribute("href");
  }
}

export function open(keepFocus) {
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

export function close() {
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

export function updateModal() {
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

export function setStatus(kind, text) {
  ui.status.setAttribute("data-kind", kind);
  ui.status.textContent = "";
  ui.status.appendChild(textWithPhones(text));
}

/*
 * Keep the patient's last message and the start of the answer in view: a long answer,
 * or an urgent one followed by more messages, is read from its beginning.
 */
export function scrollToTurn() {
  var users = ui.messages.querySelectorAll(".ccw-user");
  var anchor = users.length ? users[users.length - 1] : ui.messages.firstChild;
  // on short screens (large zoom) the whole panel scrolls, not just the conversation
  var whole = window.getComputedStyle(ui.log).overflowY === "visible";
  var box = whole ? ui.panel : ui.log;
  var bottom = box.scrollHeight - box.clientHeight;
  var top = anchor ? anchor.offsetTop - 8 + (whole ? ui.log.offsetTop : 0) : bottom;
  box.scrollTop = Math.min(top, bottom);
}

export function announce(text, urgent) {
  var region = urgent ? ui.assertive : ui.polite;
  var line = el("p", { text: text });
  region.appendChild(line);
  while (region.childNodes.length > 3) {
    region.removeChild(region.firstChild);
  }
}

export function clearQuickReplies() {
  var hadFocus = ui.messages.contains(document.activeElement) &&
    document.activeElement.classList.contains("ccw-reply");
  Array.prototype.forEach.call(ui.messages.querySelectorAll(".ccw-replies"), function (group) {
    group.parentNode.removeChild(group);
  });
  if (hadFocus) {
    ui.input.focus();
  }
}

export function renderUser(text, pending) {
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

export function urgentBox(urgent) {
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

export function renderBot(message, quiet) {
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

export function renderHistory(messages) {
  ui.messages.textContent = "";
  (Array.isArray(messages) ? messages : []).forEach(function (message) {
    if (message && message.from === "user" && typeof message.text === "string") {
      renderUser(message.text, false);
    } else if (message && message.from === "bot") {
      renderBot(message, true);
    }
  });
}
