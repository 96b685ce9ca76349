// Starts the widget. widget.js (the one classic script a page embeds) imports this
// module and calls start() once the page is parsed, with where it was loaded from and
// the script tag's data-* settings.
import { clinic, env, ui } from "./state.js";
import { telHref } from "./dom.js";
import { saved } from "./storage.js";
import { build, close, open } from "./view.js";

export { close, open, ui };

export function start(setup) {
  env.config = setup.config || {};
  env.staticBase = setup.staticBase;
  env.channelBase = setup.channelBase;
  env.storeKey = "clinic-chat:" + setup.channelBase.href;
  clinic.name = env.config.clinicName || "the clinic";
  clinic.phone = env.config.clinicPhone || "";
  clinic.phoneHref = telHref(env.config.clinicPhone || "");
  build();
  var state = saved();
  if (env.config.open === "true" || (state.session_id && state.open)) {
    open(true);
  }
}
