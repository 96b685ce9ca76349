// Talking to the server over socket.io: the session, messages typed while offline,
// the vendored socket.io client loaded from web/static/vendor/.
import { clinic, env, ui } from "./state.js";
import { el } from "./dom.js";
import { saved, save } from "./storage.js";
import { showClinic, setStatus, scrollToTurn, clearQuickReplies, renderUser, renderBot, renderHistory } from "./view.js";

var socket = null;
var ready = false;
var everConnected = false;
var queue = []; // [text, list item] typed while not connected

export function offlineText() {
  var what = everConnected
    ? "Connection lost. Trying to reconnect\u2026 What you type will be sent when the connection is back."
    : "The assistant cannot be reached right now. Trying again\u2026";
  return what + " If it is urgent, call " + (clinic.phone || "the clinic") +
    ". In an emergency, call 911.";
}

export function setTyping(on) {
  ui.typing.hidden = !on;
  if (on) {
    scrollToTurn();
  }
}

export function connect() {
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
    socket = io(env.channelBase.origin, {
      path: env.channelBase.pathname + "socket.io",
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

export function loadClient(done) {
  var previous = window.io;
  var tag = el("script", { src: new URL("vendor/socket.io.min.js", env.staticBase).href });
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

export function flush() {
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

export function send(text) {
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

export function submit() {
  var text = ui.input.value.trim();
  if (!text) {
    ui.input.focus();
    return;
  }
  ui.input.value = "";
  send(text);
  ui.input.focus();
}
