// What every part of the widget shares: where it was loaded from, the page's settings,
// the clinic's details and the widget's elements. main.js fills `env` before anything runs.

export const env = {
  config: {}, // the script tag's data-* attributes
  staticBase: null, // URL of web/static/
  channelBase: null, // URL of the web channel (/webhooks/web/)
  storeKey: "" // sessionStorage key of this assistant's session
};

export const clinic = { name: "the clinic", phone: "", phoneHref: "" };

export const ui = {};
