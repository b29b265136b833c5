// Aiguillage's chat on a partner's page: <script src="…/embed.js" data-code="CODE" async>.
// Until the person opens it this draws one button: no cookie, no storage, no frame, no
// request (the CNIL's rule for chatbots). All of it lives in one shadow root styled by a
// constructed stylesheet, so the host's styles, scripts and strict CSP are left alone.
"use strict";
(() => {
  const script = document.currentScript;
  // Filled in by the service from its catalogues (webhook/embed.py).
  const TEXTS = /* texts */ {};
  if (!script || document.querySelector("aiguillage-chat")) return; // pasted twice
  const service = new URL(".", script.src); // the service's base, under a path prefix too
  const asked = (script.dataset.lang || document.documentElement.lang || "fr").slice(0, 2);
  const language = TEXTS[asked.toLowerCase()] ? asked.toLowerCase() : "fr";
  const t = TEXTS[language];
  const SVG = "http://www.w3.org/2000/svg";
  const CSS = `
:host{all:initial}
*{box-sizing:border-box}
button{font:600 16px/1.2 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;cursor:pointer;
 border:2px solid transparent;color:#fff;background:#0b5563;margin:0}
button:focus-visible,iframe:focus-visible{outline:3px solid #f2a900;outline-offset:0;box-shadow:0 0 0 6px #1b1f22}
.launcher{position:fixed;z-index:2147483000;right:max(16px,env(safe-area-inset-right));
 bottom:max(16px,env(safe-area-inset-bottom));display:flex;gap:8px;align-items:center;
 min-height:48px;padding:10px 18px;border-radius:24px;box-shadow:0 2px 10px rgba(0,0,0,.3)}
svg{width:22px;height:22px;fill:none;stroke:currentColor;stroke-width:2;flex:none}
.panel{position:fixed;z-index:2147483001;right:16px;bottom:16px;display:flex;flex-direction:column;
 width:min(400px,calc(100vw - 32px));height:min(680px,calc(100vh - 32px));background:#fff;
 border:1px solid #56616a;border-radius:12px;overflow:hidden;box-shadow:0 6px 28px rgba(0,0,0,.35)}
.panel{letter-spacing:normal;word-spacing:normal;text-transform:none;text-indent:0;text-shadow:none;
 white-space:normal;visibility:visible;direction:ltr}
.panel[hidden]{display:none}
.bar{display:flex;align-items:center;justify-content:space-between;background:#0b5563;color:#fff;
 font:600 15px/1.2 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;padding:2px 2px 2px 14px}
.close{width:44px;height:44px;padding:9px;border-radius:8px}
iframe{flex:1;width:100%;border:0;background:#fff}
@media (max-width:480px){.panel{inset:0;width:100%;height:100%;border:0;border-radius:0}}
@media print{:host{display:none}}`;

  function element(tag, attributes = {}, text = "") {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
    node.textContent = text;
    return node;
  }

  function icon(path) {
    const svg = document.createElementNS(SVG, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("aria-hidden", "true");
    const line = document.createElementNS(SVG, "path");
    line.setAttribute("d", path);
    svg.append(line);
    return svg;
  }

  function build() {
    const host = document.createElement("aiguillage-chat");
    // Open rather than closed: checkers (axe, an auditor's browser tools) must reach inside.
    const root = host.attachShadow({ mode: "open" });
    if ("adoptedStyleSheets" in root) {
      const sheet = new CSSStyleSheet();
      sheet.replaceSync(CSS);
      root.adoptedStyleSheets = [sheet];
    } else {
      root.append(element("style", {}, CSS)); // older browsers, whose host CSP then decides
    }
    const launcher = element("button", {
      type: "button", class: "launcher", "aria-expanded": "false", "aria-controls": "panel",
    });
    launcher.append(icon("M4 5h16v11H9l-5 4z"), element("span", {}, t.open));
    const panel = element("div", {
      id: "panel", class: "panel", role: "dialog", "aria-modal": "true", "aria-labelledby": "title",
    });
    panel.hidden = true;
    const bar = element("div", { class: "bar" });
    const close = element("button", { type: "button", class: "close", "aria-label": t.close });
    close.append(icon("M5 5l14 14M19 5L5 19"));
    bar.append(element("span", { id: "title" }, "Aiguillage · PôleS"), close);
    // Tabbing out of the frame lands here and goes back to the top of the panel.
    const edge = element("span", { tabindex: "0" });
    panel.append(bar, edge);
    root.append(launcher, panel);
    let frame = null;

    function open() {
      if (!frame) {
        const url = new URL(service);
        url.search = new URLSearchParams({
          start: script.dataset.code || "", embed: "1", lang: language, origin: location.origin,
        });
        frame = element("iframe", { title: t.frame, src: url.href });
        panel.insertBefore(frame, edge);
        // The chat page tells us when Escape is pressed inside it: only that frame, from there.
        window.addEventListener("message", (event) => {
          if (event.origin === service.origin && event.source === frame.contentWindow &&
              event.data && event.data.aiguillage === "close") hide();
        });
      }
      // Hidden, never removed, on close: reopening shows the same conversation.
      panel.hidden = false;
      launcher.setAttribute("aria-expanded", "true");
      frame.focus();
    }

    function hide() {
      if (panel.hidden) return;
      panel.hidden = true;
      launcher.setAttribute("aria-expanded", "false");
      launcher.focus();
    }

    launcher.addEventListener("click", () => (panel.hidden ? open() : hide()));
    close.addEventListener("click", hide);
    edge.addEventListener("focus", () => close.focus());
    close.addEventListener("keydown", (event) => {
      if (event.key === "Tab" && event.shiftKey) {
        event.preventDefault();
        frame.focus();
      }
    });
    root.addEventListener("keydown", (event) => {
      if (event.key === "Escape" && !panel.hidden) hide();
    });
    document.body.append(host);
  }

  if (document.body) build();
  else document.addEventListener("DOMContentLoaded", build);
})();
