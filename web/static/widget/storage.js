// The session id and open/closed state, in the tab's sessionStorage (memory if blocked).
// forget() removes them, and anything of ours in localStorage, for shared computers.
import { env } from "./state.js";

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
  },
  remove: function (key) {
    delete memory[key];
    [window.sessionStorage, window.localStorage].forEach(function (area) {
      try {
        area.removeItem(key);
      } catch (e) {
        // storage blocked: nothing was kept there
      }
    });
  }
};

export function saved() {
  try {
    return JSON.parse(store.get(env.storeKey) || "{}") || {};
  } catch (e) {
    return {};
  }
}

export function save(changes) {
  var state = saved();
  Object.keys(changes).forEach(function (key) {
    state[key] = changes[key];
  });
  store.set(env.storeKey, JSON.stringify(state));
}

export function forget() {
  store.remove(env.storeKey);
}
