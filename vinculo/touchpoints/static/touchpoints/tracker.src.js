/*! Vínculo website tracker — https://github.com/vinculo (AGPL). Build: scripts/build-tracker.sh */
/*
 * Install with one tag (the site's public key; nothing else is needed):
 *   <script async src="https://crm.example.com/t/vinculo.js" data-key="pk_…"></script>
 * Calls made before the script has loaded are queued by a stub and replayed:
 *   window.vinculo = window.vinculo || []; vinculo.push(["track", "added_to_cart", {sku: "A1"}]);
 * API: vinculo.page(), vinculo.track(name, props), vinculo.identify(emailOrUserId, traits),
 *      vinculo.consent(true | false), vinculo.flush().
 * Consent follows the site's mode, read from the server (/api/v1/track/config) before anything is
 * sent: "opt_in" sends nothing before consent(true); "cookieless" sends anonymous page views and
 * events (an id per page load, no cookie) and holds identify() back until consent(true);
 * "implied" tracks from the first page. Each batch says {consent: true} once the visitor agreed
 * (the server refuses what the mode does not allow without it). consent(false) stops, drops what
 * is queued and leaves only the refusal in the cookie ("0"). Do-Not-Track ("1") sends nothing when
 * the site honours it. Until the server has answered, the snippet behaves as opt-in.
 */
(function (w, d) {
  "use strict";
  if (w.vinculo && w.vinculo._loaded) return;

  var COOKIE = "vinculo_aid";
  var YEAR = 31536000;
  var FLUSH_MS = 2000;
  var MAX_BATCH = 20;
  var MAX_PENDING = 100;
  var MAX_TRIES = 8;

  var nav = w.navigator;
  var script = d.currentScript || d.querySelector("script[data-key][src*='vinculo']");
  if (!script) return;
  var attr = function (name) { return script.getAttribute(name); };
  var key = attr("data-key");
  var endpoint = attr("data-endpoint") || new URL(script.src, w.location.href).origin + "/api/v1/track/batch";
  var dntAsked = nav.doNotTrack === "1" || w.doNotTrack === "1";
  var dnt = dntAsked; // honoured until the server says the site ignores it
  var mode = ""; // the site's consent mode, once the server has said it

  var queue = [];
  var timer = 0;
  var tries = 0;
  var sentAnonymously = false;
  var lastUrl = "";
  var lastPage = d.referrer;

  function uuid() {
    var c = w.crypto;
    if (c && c.randomUUID) return c.randomUUID();
    var b = new Uint8Array(16);
    if (c && c.getRandomValues) c.getRandomValues(b);
    else for (var i = 0; i < 16; i++) b[i] = Math.floor(Math.random() * 256);
    b[6] = (b[6] & 15) | 64;
    b[8] = (b[8] & 63) | 128;
    var h = "";
    for (var j = 0; j < 16; j++) h += (b[j] + 256).toString(16).slice(1) + ([3, 5, 7, 9].indexOf(j) >= 0 ? "-" : "");
    return h;
  }

  function readCookie() {
    var m = d.cookie.match(new RegExp("(?:^|; )" + COOKIE + "=([A-Za-z0-9_.:-]{1,64})"));
    return m ? m[1] : "";
  }

  function writeCookie(value, maxAge) {
    d.cookie = COOKIE + "=" + value + "; Max-Age=" + maxAge + "; Path=/; SameSite=Lax" +
      (w.location.protocol === "https:" ? "; Secure" : "");
  }

  // a stored id means the visitor consented on an earlier page, "0" that they refused
  var stored = readCookie();
  var consent = stored === "0" ? false : stored ? true : null; // true, false, or null (not asked yet)
  var anonymousId = consent ? stored : uuid(); // in memory only until consent

  function anonymousOnly() {
    return consent === null && mode === "cookieless";
  }

  function allowed() {
    return !dnt && (consent === true || anonymousOnly());
  }

  function schedule() {
    if (!allowed()) return;
    if (queue.length >= MAX_BATCH) flush();
    else if (!timer) timer = setTimeout(flush, FLUSH_MS);
  }

  function retry(events) {
    queue = events.concat(queue).slice(0, MAX_PENDING);
    if (++tries > MAX_TRIES) { queue = []; tries = 0; return; }
    clearTimeout(timer);
    timer = setTimeout(flush, Math.min(30000, 1000 * Math.pow(2, tries)));
  }

  function flush(beacon) {
    clearTimeout(timer);
    timer = 0;
    if (!allowed()) return;
    // without consent (cookieless): anonymous events only; identify waits for consent(true)
    var events = [];
    var held = [];
    for (var i = 0; i < queue.length; i++) {
      if (events.length < MAX_BATCH && (consent === true || queue[i].type !== "identify")) events.push(queue[i]);
      else held.push(queue[i]);
    }
    if (!events.length) return;
    queue = held;
    var batch = { key: key, sent_at: new Date().toISOString(), events: events };
    if (consent === true) batch.consent = true;
    else sentAnonymously = true;
    var body = JSON.stringify(batch);
    // text/plain: a "simple" request (no CORS preflight), and what sendBeacon sends
    if (beacon === true && nav.sendBeacon && nav.sendBeacon(endpoint, new Blob([body], { type: "text/plain" }))) {
      if (queue.length) flush(true);
      return;
    }
    try {
      w.fetch(endpoint, {
        method: "POST",
        body: body,
        headers: { "Content-Type": "text/plain" },
        keepalive: body.length < 60000,
        credentials: "omit",
        mode: "cors"
      }).then(function (r) {
        if (r.status >= 500) retry(events); // 4xx: the events are bad; sending them again will not help
        else { tries = 0; if (queue.length) schedule(); }
      }, function () { retry(events); });
    } catch (e) {
      retry(events);
    }
  }

  function add(type, fields) {
    if (consent === false || (mode && dnt)) return;
    fields.type = type;
    fields.message_id = uuid();
    fields.anonymous_id = anonymousId;
    fields.timestamp = new Date().toISOString();
    queue.push(fields);
    if (queue.length > MAX_PENDING) queue.shift();
    schedule();
  }

  var api = {
    _loaded: true,
    page: function (props) {
      var url = w.location.href;
      if (url === lastUrl && !props) return;
      add("page", { url: url, title: d.title, referrer: lastPage || "", properties: props || {} });
      lastPage = lastUrl = url;
    },
    track: function (name, props) {
      add("track", { name: String(name), properties: props || {}, url: w.location.href });
    },
    identify: function (id, traits) {
      add("identify", { user_id: String(id), traits: traits || {}, url: w.location.href });
    },
    consent: function (granted) {
      if (granted) {
        if (consent !== true && sentAnonymously) {
          // what left the page before consent stays apart from the visitor: a new id from here on
          anonymousId = uuid();
          for (var i = 0; i < queue.length; i++) queue[i].anonymous_id = anonymousId;
        }
        consent = true;
        if (!dnt) writeCookie(anonymousId, YEAR);
        schedule();
      } else {
        consent = false;
        queue = [];
        clearTimeout(timer);
        timer = 0;
        writeCookie("0", YEAR); // the refusal, and no id
        anonymousId = uuid();
      }
    },
    flush: function () { flush(); },
    push: function (args) { call(args); }
  };

  function call(args) {
    if (args && api[args[0]]) api[args[0]].apply(api, [].slice.call(args, 1));
  }

  var stub = w.vinculo;
  w.vinculo = api;
  api.page();
  if (stub && stub.length) for (var i = 0; i < stub.length; i++) call(stub[i]);

  // the site's consent mode and Do-Not-Track choice are the server's: nothing is sent before they are known
  try {
    w.fetch(endpoint.replace(/\/batch$/, "/config") + "?key=" + encodeURIComponent(key), { credentials: "omit", mode: "cors" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (site) {
        if (!site) return;
        mode = site.consent_mode;
        dnt = dntAsked && site.honor_dnt !== false;
        if (dnt) { queue = []; return; }
        if (mode === "implied" && consent === null) consent = true;
        if (consent === true && !readCookie()) writeCookie(anonymousId, YEAR);
        schedule();
      }, function () {});
  } catch (e) {}

  // single-page applications: a new page view when the address changes
  var push = w.history.pushState;
  w.history.pushState = function () {
    var result = push.apply(this, arguments);
    setTimeout(function () { api.page(); }, 0);
    return result;
  };
  w.addEventListener("popstate", function () { api.page(); });
  w.addEventListener("pagehide", function () { flush(true); });
  d.addEventListener("visibilitychange", function () { if (d.visibilityState === "hidden") flush(true); });
})(window, document);
