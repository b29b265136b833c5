// The web chat of Aiguillage: draws the conversation served by POST /api/chat.
// Plain script, no build step. Every text from the server goes through textContent, never
// innerHTML, so a message can never inject markup.
"use strict";

(() => {
  const STORAGE_KEY = "aiguillage.chat.v2";
  // Enough for any real conversation, small enough never to hit the storage quota.
  const MAX_TRANSCRIPT = 400;
  const REQUEST_TIMEOUT_MS = 20000;

  const readJson = (id) => JSON.parse(document.getElementById(id).textContent);
  const t = readJson("i18n");
  const config = readJson("chat-config");
  const PUSHED_POLL_MS = 4000;

  const app = document.getElementById("app");
  // The scrolling box holds the messages, then the error (an alert of its own) and the answer
  // buttons; only the messages are in the live region, so nothing is read out twice.
  const scroller = document.querySelector('[data-testid="chat-log"]');
  const log = document.getElementById("messages");
  const form = document.getElementById("composer");
  const input = document.querySelector('[data-testid="text-input"]');

  // ---- storage: a reload resumes the conversation, a shared browser hands nothing on ------
  // The session token (issued by the server) and the transcript live in sessionStorage only:
  // they end with the tab. Even in the tab they open nothing after the idle window, and once
  // a conversation is finished the transcript is no longer kept (a reload shows where the
  // request stands, not the answers); once erased, nothing is kept at all.

  const memoryStore = new Map();
  const store = {
    get(key) {
      try {
        return window.sessionStorage.getItem(key);
      } catch {
        // Storage can be disabled (private browsing, strict settings): keep the page usable.
        return memoryStore.get(key) ?? null;
      }
    },
    set(key, value) {
      try {
        window.sessionStorage.setItem(key, value);
      } catch {
        memoryStore.set(key, value);
      }
    },
    remove(key) {
      memoryStore.delete(key);
      try {
        window.sessionStorage.removeItem(key);
      } catch {
        // Nothing stored there to remove.
      }
    },
  };
  // Earlier versions kept a client-made session id in localStorage, for ever: drop it.
  store.remove("aiguillage.chat.v1");
  try {
    window.localStorage.removeItem("aiguillage.session.v1");
  } catch {
    // localStorage disabled: nothing was kept there.
  }
  const IDLE_MS = (Number.isFinite(config.idle_minutes) ? config.idle_minutes : 30) * 60000;

  function freshState() {
    return {
      session: null,
      start: config.start,
      transcript: [],
      question: null,
      done: false,
      pushed: 0,
      activeAt: Date.now(),
      language: config.language,
    };
  }

  // A language tag as the page and the server write them ("fr", "en"), or null.
  function languageTag(value) {
    return typeof value === "string" && /^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$/.test(value) ? value : null;
  }

  function readStoredJson(key) {
    try {
      return JSON.parse(store.get(key) ?? "null");
    } catch {
      return null; // a damaged entry is treated as none
    }
  }

  function isQuestion(value) {
    return (
      value !== null &&
      typeof value === "object" &&
      typeof value.kind === "string" &&
      (value.choices === undefined || value.choices === null || Array.isArray(value.choices))
    );
  }

  function idle(saved) {
    return !Number.isFinite(saved.activeAt) || Date.now() - saved.activeAt > IDLE_MS;
  }

  function loadState() {
    const saved = readStoredJson(STORAGE_KEY);
    const valid =
      saved !== null &&
      typeof saved === "object" &&
      (saved.session === null || typeof saved.session === "string") &&
      Array.isArray(saved.transcript) &&
      saved.transcript.every(
        (entry) => entry && (entry.from === "bot" || entry.from === "user") && typeof entry.text === "string",
      );
    // Someone who left the browser a while ago: the next person starts afresh, seeing nothing.
    // A different partner link also means a new conversation; the same link reloaded resumes.
    if (!valid || idle(saved) || (config.start && config.start !== saved.start)) {
      store.remove(STORAGE_KEY);
      return freshState();
    }
    return {
      session: saved.session,
      start: saved.start ?? null,
      transcript: saved.transcript,
      question: isQuestion(saved.question) ? saved.question : null,
      done: saved.done === true,
      pushed: Number.isInteger(saved.pushed) ? saved.pushed : 0,
      activeAt: saved.activeAt,
      // The language the conversation is in: it can differ from the page's after a reload.
      language: languageTag(saved.language) ?? config.language,
    };
  }

  let state = loadState();

  function saveState() {
    state.transcript = state.transcript.slice(-MAX_TRANSCRIPT);
    // A finished conversation keeps its token (a reload hears where the request stands) but
    // not its answers: they stay on screen only until the page is left.
    const kept = state.done ? { ...state, transcript: [], question: null } : state;
    store.set(STORAGE_KEY, JSON.stringify(kept));
  }

  // Erased, or the server no longer knows the token: nothing of it stays, on screen or stored.
  function forget() {
    store.remove(STORAGE_KEY);
    state = freshState();
    clearLog();
  }

  function clearLog() {
    log.replaceChildren();
    for (const node of scroller.querySelectorAll(".notice, .question, .done, .typing")) node.remove();
  }

  // ---- drawing --------------------------------------------------------------------------

  function element(tag, attributes = {}, text = null) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes)) {
      if (value !== null && value !== undefined) node.setAttribute(name, String(value));
    }
    if (text !== null) node.textContent = text;
    return node;
  }

  // http(s) addresses, and the site's own pages (such as /confidentialite) named by the server:
  // other "/words" in the texts are chat commands like /recommencer, not addresses.
  const LINK = /(^|[\s(«"'])(https?:\/\/[^\s<>"«»]+|\/[A-Za-z0-9_~-][^\s<>"«»]*)/g;
  const TRAILING_PUNCTUATION = /[.,;:!?)'»]+$/;
  const sitePages = new Set(Array.isArray(config.pages) ? config.pages : []);

  function safeHref(candidate) {
    if (candidate.startsWith("/") && !sitePages.has(candidate)) return null;
    try {
      const url = new URL(candidate, window.location.href);
      if (url.protocol !== "http:" && url.protocol !== "https:") return null;
      return url.href;
    } catch {
      return null;
    }
  }

  function linkified(text) {
    const fragment = document.createDocumentFragment();
    let position = 0;
    for (const match of text.matchAll(LINK)) {
      const start = match.index + match[1].length;
      const raw = match[2];
      const link = raw.replace(TRAILING_PUNCTUATION, "");
      const href = link ? safeHref(link) : null;
      if (!href) continue;
      fragment.append(document.createTextNode(text.slice(position, start)));
      const anchor = element("a", { href, target: "_blank", rel: "noopener noreferrer" }, link);
      fragment.append(anchor);
      position = start + link.length;
    }
    fragment.append(document.createTextNode(text.slice(position)));
    return fragment;
  }

  function scrollToEnd() {
    scroller.scrollTop = scroller.scrollHeight;
  }

  // A link the service attaches to a message ({url, label}: a booking's calendar file), or null.
  // Only an http(s) address, the site's own included: never a script's.
  function attachedLink(value) {
    if (value === null || typeof value !== "object") return null;
    if (typeof value.url !== "string" || typeof value.label !== "string" || !value.label) return null;
    try {
      const url = new URL(value.url, window.location.href);
      if (url.protocol !== "http:" && url.protocol !== "https:") return null;
      return { url: url.href, label: value.label };
    } catch {
      return null;
    }
  }

  function linkButton(link) {
    // A calendar file's link says so in its name: on a phone, the person knows a file comes.
    const calendar = new URL(link.url).pathname.endsWith(".ics") && !link.label.includes(".ics");
    const label = calendar ? `${link.label} (.ics)` : link.label;
    const anchor = element("a", { href: link.url, class: "message-link", "data-testid": "message-link" }, label);
    if (calendar) anchor.setAttribute("type", "text/calendar");
    const line = element("p", { class: "message-link-line" });
    line.append(anchor);
    return line;
  }

  // `language`: the one the text is written in, so that a screen reader pronounces it right
  // (older bubbles keep theirs after a switch of language).
  function bubble(from, text, link = null, language = null) {
    const node = element("div", {
      class: `bubble ${from}`,
      "data-testid": from === "bot" ? "bot-message" : "user-message",
      lang: languageTag(language),
    });
    // Screen readers hear who speaks; sighted readers see it from the side of the bubble.
    node.append(element("span", { class: "sr-only" }, `${from === "bot" ? t.bot_said : t.you_said} `));
    // Only the service's texts get links: what the person typed is shown exactly as typed.
    node.append(from === "bot" ? linkified(text) : document.createTextNode(text));
    const attached = from === "bot" ? attachedLink(link) : null;
    if (attached) node.append(linkButton(attached));
    log.append(node);
    scrollToEnd();
    return node;
  }

  function notice(text) {
    const node = element("p", { class: "notice", role: "alert", "data-testid": "error-message" }, text);
    scroller.append(node);
    scrollToEnd();
  }

  let typing = null;

  function showTyping() {
    typing = element("div", { class: "bubble bot typing", "data-testid": "typing", "aria-hidden": "true" });
    for (let i = 0; i < 3; i += 1) typing.append(element("span", { class: "dot" }, "."));
    scroller.append(typing);
    scrollToEnd();
  }

  function hideTyping() {
    typing?.remove();
    typing = null;
  }

  function removeControls() {
    for (const node of scroller.querySelectorAll(".question, .done")) node.remove();
  }

  // Keyboards fitted to the expected answer; everything stays free text for the server.
  function configureInput(question) {
    const kind = question?.kind ?? "text";
    const field = question?.field ?? "";
    const modes = new Map([
      ["number", { inputmode: "numeric", autocomplete: "off" }],
      ["postal_code", { inputmode: "numeric", autocomplete: "postal-code" }],
      ["phone", { inputmode: "tel", autocomplete: "tel" }],
      ["email", { inputmode: "email", autocomplete: "email" }],
    ]);
    const exact = modes.has(kind);
    const mode = modes.get(kind) ?? {
      inputmode: "text",
      autocomplete: field === "first_name" ? "given-name" : "off",
    };
    input.setAttribute("inputmode", mode.inputmode);
    input.setAttribute("autocomplete", mode.autocomplete);
    input.setAttribute("autocapitalize", exact ? "off" : field === "first_name" ? "words" : "sentences");
    input.spellcheck = !exact;
  }

  function choiceButton(choice, onClick) {
    const button = element(
      "button",
      { type: "button", class: "choice", "data-testid": "choice-button", "data-value": choice.value },
      choice.label,
    );
    button.addEventListener("click", onClick);
    return button;
  }

  function renderDone() {
    const done = element("div", { class: "done" });
    const again = element(
      "button",
      { type: "button", class: "choice primary", "data-testid": "done-restart" },
      t.restart,
    );
    again.addEventListener("click", () => restart(false));
    done.append(again);
    scroller.append(done);
    scrollToEnd();
  }

  function renderQuestion() {
    removeControls();
    let question = state.question;
    configureInput(question);
    if (state.done) {
      // After the end the page's own button restarts; a question still asked (the Yes/No of
      // /supprimer) keeps its buttons.
      const choices = Array.isArray(question?.choices) ? question.choices.filter((c) => c.value !== "restart") : [];
      question = choices.length ? { ...question, choices } : null;
      if (!question) {
        renderDone();
        return;
      }
    }
    if (!question) return;
    const choices = Array.isArray(question.choices) ? question.choices : [];
    // The group says what to do with its buttons; the question itself was just read out.
    const offered = (question.kind === "choice" || question.kind === "multi") && choices.length;
    const box = element("div", {
      class: "question",
      role: offered ? "group" : null,
      "aria-label": offered ? (question.kind === "multi" ? t.pick_several : t.pick_one) : null,
      lang: languageTag(state.language),
      "data-testid": "question",
      "data-field": question.field ?? "",
      "data-kind": question.kind,
    });
    if (question.kind === "choice") {
      for (const choice of choices) {
        box.append(choiceButton(choice, () => send({ choice: choice.value }, choice.label, "button")));
      }
    } else if (question.kind === "multi") {
      const selected = new Set();
      // Each question names its own "none of these" ("Aucune", "Rien de particulier").
      const none = typeof question.none === "string" && question.none ? question.none : t.none;
      const submit = element("button", { type: "button", class: "choice primary", "data-testid": "multi-submit" }, none);
      const refresh = () => {
        submit.textContent = selected.size ? `${t.submit} (${selected.size})` : none;
      };
      for (const choice of choices) {
        const button = choiceButton(choice, () => {
          if (selected.has(choice.value)) selected.delete(choice.value);
          else selected.add(choice.value);
          button.setAttribute("aria-pressed", String(selected.has(choice.value)));
          refresh();
        });
        button.classList.add("toggle");
        button.setAttribute("aria-pressed", "false");
        box.append(button);
      }
      submit.addEventListener("click", () => {
        // Keep the order the server offered, whatever order the person tapped in.
        const picked = choices.filter((choice) => selected.has(choice.value));
        const echo = picked.length ? picked.map((choice) => choice.label).join(", ") : none;
        send({ choices: picked.map((choice) => choice.value) }, echo, "button");
      });
      box.append(submit);
    }
    scroller.append(box);
    scrollToEnd();
    if (state.done) renderDone();
  }

  function renderAll() {
    clearLog();
    for (const entry of state.transcript) bubble(entry.from, entry.text, entry.link ?? null, entry.lang);
    renderQuestion();
  }

  // ---- talking to the server ------------------------------------------------------------

  let busy = false;

  function setBusy(value) {
    busy = value;
    app.dataset.state = value ? "busy" : state.done ? "done" : "idle";
    // The live region speaks once the turn is whole, not message by message.
    log.setAttribute("aria-busy", String(value));
    for (const button of document.querySelectorAll("button")) button.disabled = value;
  }

  class SessionGone extends Error {}
  // Too many messages at once (429): the server's own kind words say when to try again.
  class TooFast extends Error {}

  // The token goes in a header, never in a URL: addresses end up in logs and histories.
  function headers(extra = {}) {
    const sent = { Accept: "application/json", ...extra };
    if (state.session) sent.Authorization = `Bearer ${state.session}`;
    return sent;
  }

  async function post(body) {
    const controller = new AbortController();
    const timer = window.setTimeout(() => controller.abort(), REQUEST_TIMEOUT_MS);
    try {
      const url = `${config.api}?lang=${encodeURIComponent(config.language)}`;
      const response = await fetch(url, {
        method: "POST",
        headers: headers({ "Content-Type": "application/json" }),
        body: JSON.stringify(body),
        signal: controller.signal,
        credentials: "same-origin",
      });
      if (response.status === 401) throw new SessionGone();
      if (response.status === 429) {
        const refusal = await response.json().catch(() => null);
        const words = refusal?.detail?.message;
        throw new TooFast(typeof words === "string" ? words : t.connection_error);
      }
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      const data = await response.json();
      if (!data || !Array.isArray(data.messages) || typeof data.session !== "string") {
        throw new Error("unexpected answer");
      }
      return data;
    } finally {
      window.clearTimeout(timer);
    }
  }

  // `language`: the one the reply is written in, if the server does not say it.
  function receive(data, language) {
    for (const node of scroller.querySelectorAll(".notice")) node.remove();
    const replyLanguage = languageTag(data.language) ?? language;
    state.language = replyLanguage;
    if (data.session !== state.session) {
      // A new conversation (a restart, or a start after the old token expired).
      state.session = data.session;
      state.pushed = 0;
    }
    state.activeAt = Date.now();
    if (data.erased === true) {
      // Only the confirmation stays on screen; nothing of the person is kept anywhere.
      forget();
      state.done = true;
      state.language = replyLanguage;
      for (const message of data.messages) {
        if (typeof message?.text === "string" && message.text !== "") {
          bubble("bot", message.text, null, state.language);
        }
      }
      renderQuestion();
      return;
    }
    let question = null;
    let first = null;
    for (const message of data.messages) {
      if (typeof message?.text === "string" && message.text !== "") {
        // A link (a booking's calendar file) stays with its message after a reload.
        const link = attachedLink(message.link);
        const entry = { from: "bot", text: message.text, lang: state.language };
        state.transcript.push(link ? { ...entry, link } : entry);
        const node = bubble("bot", message.text, link, state.language);
        first ??= node;
      }
      if (isQuestion(message?.question)) question = message.question;
    }
    state.question = question;
    state.done = data.done === true;
    saveState();
    renderQuestion();
    // A long answer (the summary, the orientation) is read from its beginning, not its end.
    if (first) {
      const overflow = first.getBoundingClientRect().top - scroller.getBoundingClientRect().top;
      if (overflow < 0) scroller.scrollTop += overflow - 8;
    }
  }

  // Sends one turn; `echo` is what the person sees as their own bubble. Resolves to success.
  async function send(body, echo, via) {
    if (busy) return false;
    const previousQuestion = state.question;
    // The person answers in the conversation's language; a switch is answered in the new one.
    const spoken = state.language;
    const replyLanguage = body.command === "language" ? (languageTag(body.payload) ?? spoken) : spoken;
    removeControls();
    const echoed = echo ? bubble("user", echo, null, spoken) : null;
    setBusy(true);
    showTyping();
    let gone = false;
    try {
      const data = await post(body);
      hideTyping();
      if (echo) state.transcript.push({ from: "user", text: echo, lang: spoken });
      receive(data, replyLanguage);
      return true;
    } catch (error) {
      hideTyping();
      gone = error instanceof SessionGone;
      if (!gone) {
        // The turn did not happen: take the answer back so it can be sent again.
        echoed?.remove();
        notice(error instanceof TooFast ? error.message : t.connection_error);
        state.question = previousQuestion;
        renderQuestion();
      }
      return false;
    } finally {
      setBusy(false);
      focusAfter(via);
      if (gone) startAfresh();
    }
  }

  // The server no longer knows the token (idle too long, erased elsewhere): start anew,
  // showing nothing of before.
  function startAfresh() {
    forget();
    send({ command: "start", payload: state.start ?? null }, null, null);
  }

  function focusAfter(via) {
    // Only after the person acted: never steal the focus on load or on a language switch.
    if (!via) return;
    // The next options when there are some (on a phone this also closes the keyboard that
    // would hide them), else the text field.
    const next = scroller.querySelector(".question button, .done button");
    (next ?? input).focus({ preventScroll: true });
  }

  async function restart(confirmFirst) {
    if (busy) return;
    if (confirmFirst && !state.done && state.transcript.length > 1 && !window.confirm(t.restart_confirm)) {
      return;
    }
    state.transcript = [];
    state.question = null;
    state.done = false;
    saveState();
    clearLog();
    // The server answers with a new token: whoever restarts is treated as someone new.
    await send({ command: "restart", payload: state.start ?? null }, null, "button");
  }

  async function switchLanguage(language) {
    if (await send({ command: "language", payload: language }, null, null)) {
      // The page chrome is rendered in one language: reload it in the new one.
      const url = new URL(window.location.href);
      url.searchParams.set("lang", language);
      window.location.replace(url.href);
    }
  }

  // ---- wiring ---------------------------------------------------------------------------

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const text = input.value.trim();
    if (!text || busy) return;
    input.value = "";
    send({ text }, text, "input").then((sent) => {
      if (!sent && !input.value) input.value = text;
    });
  });

  for (const button of document.querySelectorAll("[data-command]")) {
    const command = button.dataset.command;
    button.addEventListener("click", () => {
      if (command === "restart") {
        restart(true);
      } else {
        // "Retour" and "Parler à un conseiller" read as the person's own words in the log.
        send({ command, payload: null }, t[command], "button");
      }
    });
  }

  document.querySelector('[data-testid="lang-button"]').addEventListener("click", (event) => {
    switchLanguage(event.currentTarget.dataset.language);
  });

  // ---- shown in a partner's page by /embed.js ----------------------------------------------
  // Escape closes the partner's panel, which cannot see keys pressed in this frame: tell that
  // page, and only it (postMessage delivers to the origin embed.js named, to no other).
  if (typeof config.embed_parent === "string" && window.parent !== window) {
    document.addEventListener("keydown", (event) => {
      if (event.key === "Escape" && !event.defaultPrevented) {
        window.parent.postMessage({ aiguillage: "close" }, config.embed_parent);
      }
    });
  }

  // ---- messages a counsellor writes from the admin view ------------------------------------
  // A web page cannot be written to first: it asks every few seconds while it is shown.

  // A page left open on a shared screen: past the idle window, what the person said goes.
  function expireIfIdle() {
    const said = state.done || state.transcript.some((entry) => entry.from === "user");
    if (said && idle(state)) {
      startAfresh();
      return true;
    }
    return false;
  }

  async function fetchPushed() {
    if (busy || expireIfIdle() || document.hidden || !state.session) return;
    try {
      const after = Number.isInteger(state.pushed) ? state.pushed : 0;
      const response = await fetch(`${config.api}/messages?after=${after}`, {
        headers: headers(),
        credentials: "same-origin",
      });
      if (response.status === 401 && !busy) {
        startAfresh();
        return;
      }
      if (!response.ok) return;
      const data = await response.json();
      const messages = Array.isArray(data?.messages) ? data.messages : [];
      let added = false;
      for (const message of messages) {
        if (typeof message?.text !== "string" || !Number.isInteger(message?.id)) continue;
        if (message.id <= (state.pushed ?? 0)) continue;
        state.pushed = message.id;
        // Written for this conversation, in its language (the service's words, or a counsellor's).
        state.transcript.push({ from: "bot", text: message.text, lang: state.language });
        bubble("bot", message.text, null, state.language);
        added = true;
      }
      if (added) {
        state.activeAt = Date.now();
        // Handed back: the question asked again comes with its buttons.
        if (isQuestion(data.question)) {
          state.question = data.question;
          renderQuestion();
        }
        saveState();
      }
    } catch {
      // Offline for a moment: the next round asks again.
    }
  }

  window.setInterval(fetchPushed, PUSHED_POLL_MS);

  renderAll();
  setBusy(false);
  if (state.transcript.length === 0) {
    saveState();
    send({ command: "start", payload: state.start ?? null }, null, null);
  }
})();
