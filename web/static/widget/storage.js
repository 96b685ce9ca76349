// The session id and open/closed state, in the tab's sessionStorage (memory if blocked).
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
