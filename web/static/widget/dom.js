// DOM helpers: elements built from text only, tel: links, phone numbers as links, icons.
// Every message is shown as text (textContent), never as markup.

const PHONE = /(?:\+?1[\s.-]?)?(?:\(\d{3}\)|\d{3})[\s.-]?\d{3}[\s.-]?\d{4}|\b911\b/g;

export function el(tag, attrs, children) {
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

export function telHref(number) {
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

export function safeTel(href) {
  return typeof href === "string" && /^tel:\+?\d{3,15}$/.test(href) ? href : "";
}

/* Text with phone numbers (and 911) as tel: links; everything else stays text. */
export function textWithPhones(text) {
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

export function icon(kind) {
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
