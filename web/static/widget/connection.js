// Talking to the server over socket.io: the session, messages typed while offline,
// the vendored socket.io client loaded from web/static/vendor/. Before connecting, the
// server gives this browser a key in an HttpOnly cookie (POST session): a session id
// continues only from the browser it was issued to. "Forget me" and a chat left idle
// past the server's limit end the session and clear what this page kept.
import { clinic, env, ui } from "./state.js";
import { el } from "./dom.js";
import { saved, save, forget as forgetStored } from "./storage.js";
import { showClinic, setStatus, scrollToTurn, clearQuickReplies, renderUser, renderBot, renderHistory } from "./view.js";

var socket = null;
var ready = false;
var everConnected = false;
var queue = []; // [text, list item] typed while not connected
var idleMs = 0; // the server's idle limit for a session
var idleTimer = null;

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
  socket = "starting";
  setStatus("connecting", "Connecting\u2026");
  loadClient(function (io) {
    if (!io) {
      socket = null;
      setStatus("offline", "The chat could not start. Please call " + (clinic.phone || "the clinic") +
        ". In an emergency, call 911.");
      return;
    }
    browserKey(function () {
      openSocket(io);
    });
  });
}

/* Ask the server for this browser's key cookie (HttpOnly: this page never sees it).
   A request that hangs must not keep the chat from starting: after a few seconds the socket
   opens without it (the session is then this tab's only). */
function browserKey(done) {
  var finished = false;
  function once() {
    if (!finished) {
      finished = true;
      done();
    }
  }
  window.setTimeout(once, 8000);
  try {
    window.fetch(new URL("session", env.channelBase).href, {
      method: "POST",
      credentials: "include",
      mode: "cors",
      cache: "no-store"
    }).then(once, once);
  } catch (e) {
    once();
  }
}

function openSocket(io) {
  socket = io(env.channelBase.origin, {
    path: env.channelBase.pathname + "socket.io",
    withCredentials: true,
    forceNew: true,
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
    idleMs = typeof data.idle_seconds === "number" ? data.idle_seconds * 1000 : 0;
    touch();
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
  socket.on("session_ended", function () {
    end("This chat has ended and was removed from this browser.");
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
}

/* The chat ends after the server's idle limit, here too: a shared screen shows nothing. */
function touch() {
  if (idleTimer) {
    window.clearTimeout(idleTimer);
  }
  idleTimer = idleMs > 0 ? window.setTimeout(function () {
    end("This chat was closed because it was not used for a while, to keep it private.");
  }, idleMs + 1000) : null;
}

/* End the session: the server forgets it, and so does this page. */
export function forgetMe() {
  if (socket && typeof socket === "object" && ready) {
    socket.emit("forget");
  }
  end("This chat has ended and was removed from this browser.");
}

function end(why) {
  if (idleTimer) {
    window.clearTimeout(idleTimer);
    idleTimer = null;
  }
  if (socket && typeof socket === "object") {
    socket.off();
    socket.disconnect();
  }
  socket = null;
  ready = false;
  queue = [];
  forgetStored();
  renderHistory([]);
  setTyping(false);
  setStatus("ended", why + " To start again, type a question. To talk to a person, call " +
    (clinic.phone || "the clinic") + ". In an emergency, call 911.");
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
    touch();
  }
}

export function send(text) {
  clearQuickReplies();
  var item = renderUser(text, !ready);
  if (ready) {
    socket.emit("user_uttered", { message: text });
    setTyping(true);
    touch();
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
