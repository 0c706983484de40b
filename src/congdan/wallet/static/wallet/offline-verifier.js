/* congdan offline verifier: checks an SD-JWT VC presentation entirely in the browser.
 *
 * Plain JavaScript, WebCrypto (ECDSA P-256 / SHA-256), no library, nothing from a CDN.
 * While online it fetches the JWKS and status lists of the issuers the page lists and keeps
 * them in localStorage with the time they were fetched; offline it uses what is stored.
 * The checks mirror congdan.wallet.verifier: format, issuer, signature, disclosures
 * (digests in _sd), holder binding (KB-JWT signed by cnf.jwk, sd_hash), status, expiry.
 * Only the disclosed claims are shown, always through textContent.
 */
(function () {
  "use strict";

  var config = JSON.parse(document.getElementById("offline-config").textContent);
  var S = config.strings;
  var STORE = "congdan.offlineVerifier.v1";
  var SKEW = 60;
  var RESERVED = ["iss", "iat", "nbf", "exp", "cnf", "vct", "vct#integrity", "status", "sub", "_sd", "_sd_alg"];
  var CLEAR = ["issuer_name", "document_number"];
  var MAX_INPUT = 200000;

  function load() {
    try {
      var raw = window.localStorage.getItem(STORE);
      var value = raw ? JSON.parse(raw) : null;
      if (value && typeof value === "object" && value.jwks && value.lists) return value;
    } catch (e) { /* unreadable storage: start again */ }
    return { jwks: {}, lists: {} };
  }

  function save(store) {
    try { window.localStorage.setItem(STORE, JSON.stringify(store)); } catch (e) { /* full */ }
  }

  function fmt(template, values) {
    return template.replace(/%\((\w+)\)s/g, function (_m, name) { return String(values[name]); });
  }

  function when(ms) {
    return new Date(ms).toLocaleString("vi-VN");
  }

  // --- encoding ----------------------------------------------------------------------

  function Bad(code) { this.code = code; }

  function b64d(text) {
    if (typeof text !== "string" || !/^[A-Za-z0-9_-]*$/.test(text)) throw new Bad("malformed");
    var s = text.replace(/-/g, "+").replace(/_/g, "/");
    while (s.length % 4) s += "=";
    var bin;
    try { bin = window.atob(s); } catch (e) { throw new Bad("malformed"); }
    var out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  }

  function b64e(bytes) {
    var bin = "";
    var view = new Uint8Array(bytes);
    for (var i = 0; i < view.length; i++) bin += String.fromCharCode(view[i]);
    return window.btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function b64json(text) {
    try {
      return JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(b64d(text)));
    } catch (e) {
      throw new Bad("malformed");
    }
  }

  function ascii(text) { return new TextEncoder().encode(text); }

  async function sha256(text) {
    return b64e(await crypto.subtle.digest("SHA-256", ascii(text)));
  }

  function isObject(v) { return v !== null && typeof v === "object" && !Array.isArray(v); }

  function parseJws(token) {
    if (typeof token !== "string") throw new Bad("malformed");
    var parts = token.split(".");
    if (parts.length !== 3) throw new Bad("malformed");
    var header = b64json(parts[0]);
    var payload = b64json(parts[1]);
    if (!isObject(header) || !isObject(payload)) throw new Bad("malformed");
    if (header.alg !== "ES256" || "crit" in header) throw new Bad("malformed");
    return { header: header, payload: payload, input: parts[0] + "." + parts[1], signature: b64d(parts[2]) };
  }

  async function verifySig(jwk, jws) {
    if (!isObject(jwk) || jwk.kty !== "EC" || jwk.crv !== "P-256") return false;
    if (jws.signature.length !== 64) return false;
    try {
      var key = await crypto.subtle.importKey(
        "jwk", { kty: "EC", crv: "P-256", x: jwk.x, y: jwk.y, ext: true },
        { name: "ECDSA", namedCurve: "P-256" }, false, ["verify"]);
      return await crypto.subtle.verify(
        { name: "ECDSA", hash: "SHA-256" }, key, jws.signature, ascii(jws.input));
    } catch (e) {
      return false;
    }
  }

  function keyFor(jwks, kid) {
    var list = jwks && Array.isArray(jwks.keys) ? jwks.keys : [];
    for (var i = 0; i < list.length; i++) if (isObject(list[i]) && list[i].kid === kid) return list[i];
    return null;
  }

  async function inflate(bytes) {
    var stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("deflate"));
    return new Uint8Array(await new Response(stream).arrayBuffer());
  }

  // --- fetching while online ---------------------------------------------------------

  async function fetchText(url) {
    var controller = new AbortController();
    var timer = setTimeout(function () { controller.abort(); }, 4000);
    try {
      var response = await fetch(url, { signal: controller.signal, cache: "no-store" });
      if (!response.ok) throw new Error("HTTP " + response.status);
      return await response.text();
    } finally {
      clearTimeout(timer);
    }
  }

  async function statusPayload(token, uri, jwks, now) {
    var jws = parseJws(token);
    if (jws.header.typ !== "statuslist+jwt") throw new Bad("bad_status_list");
    var jwk = keyFor(jwks, jws.header.kid);
    if (!jwk || !(await verifySig(jwk, jws))) throw new Bad("bad_status_list");
    if (jws.payload.sub !== uri) throw new Bad("bad_status_list");
    if (typeof jws.payload.exp === "number" && jws.payload.exp + SKEW < now) throw new Bad("bad_status_list");
    return jws.payload;
  }

  async function refresh(store) {
    var loaded = 0;
    for (var i = 0; i < config.issuers.length; i++) {
      var issuer = config.issuers[i];
      try {
        var jwks = JSON.parse(await fetchText(issuer.jwks_uri));
        if (!isObject(jwks) || !Array.isArray(jwks.keys)) continue;
        store.jwks[issuer.iss] = { jwks: jwks, fetchedAt: Date.now(), name: issuer.name };
        loaded++;
      } catch (e) { continue; }
      for (var j = 0; j < issuer.status_lists.length; j++) {
        var uri = issuer.status_lists[j];
        try {
          store.lists[uri] = { token: (await fetchText(uri)).trim(), fetchedAt: Date.now() };
        } catch (e) { /* kept from an earlier visit, if any */ }
      }
    }
    save(store);
    return loaded;
  }

  function showKeys(store, online) {
    var box = document.getElementById("offline-keys");
    var issuers = Object.keys(store.jwks);
    if (!issuers.length) { box.textContent = S.keys_none; return; }
    var newest = 0;
    issuers.forEach(function (iss) { newest = Math.max(newest, store.jwks[iss].fetchedAt || 0); });
    box.textContent = online
      ? fmt(S.keys_loaded, { n: issuers.length, when: when(newest) })
      : fmt(S.keys_offline, { when: when(newest) });
  }

  // --- the checks --------------------------------------------------------------------

  async function status(store, payload, iss, jwks, now) {
    var ref = isObject(payload.status) ? payload.status.status_list : null;
    if (!isObject(ref) || typeof ref.uri !== "string" || typeof ref.idx !== "number") {
      return { value: null, note: S.status_offline };
    }
    var token = null, fetchedAt = null, statusPayloadValue = null;
    if (navigator.onLine) {
      try {
        token = (await fetchText(ref.uri)).trim();
        statusPayloadValue = await statusPayload(token, ref.uri, jwks, now);
        store.lists[ref.uri] = { token: token, fetchedAt: Date.now() };
        save(store);
        fetchedAt = Date.now();
      } catch (e) { statusPayloadValue = null; }
    }
    if (!statusPayloadValue && store.lists[ref.uri]) {
      try {
        statusPayloadValue = await statusPayload(store.lists[ref.uri].token, ref.uri, jwks, now);
        fetchedAt = store.lists[ref.uri].fetchedAt;
      } catch (e) { statusPayloadValue = null; }
    }
    if (!statusPayloadValue) return { value: null, note: S.status_offline };
    try {
      var sl = statusPayloadValue.status_list;
      var bits = sl.bits;
      if ([1, 2, 4, 8].indexOf(bits) < 0) throw new Bad("bad_status_list");
      var data = await inflate(b64d(sl.lst));
      var perByte = 8 / bits;
      var at = Math.floor(ref.idx / perByte);
      if (ref.idx < 0 || at >= data.length) throw new Bad("bad_status_list");
      var value = (data[at] >> ((ref.idx % perByte) * bits)) & ((1 << bits) - 1);
      return { value: value, note: S.status_cached + " " + when(fetchedAt) };
    } catch (e) {
      return { value: null, note: S.status_offline };
    }
  }

  async function verify(text, store) {
    var now = Math.floor(Date.now() / 1000);
    var result = { valid: false, code: "malformed", claims: {}, facts: {} };
    text = (text || "").trim();
    if (!text || text.length > MAX_INPUT) return result;
    var parts = text.indexOf("~") < 0 ? [text, ""] : text.split("~");
    var jwt = parts[0], disclosures = parts.slice(1, -1), kb = parts[parts.length - 1];
    var parsed;
    try {
      if (disclosures.length > 100 || disclosures.some(function (d) { return !d; })) throw new Bad("malformed");
      parsed = parseJws(jwt);
    } catch (e) { return result; }
    var header = parsed.header, payload = parsed.payload;
    if (["dc+sd-jwt", "vc+jwt"].indexOf(header.typ) < 0 || typeof payload.iss !== "string") return result;

    // issuer and signature
    var entry = store.jwks[payload.iss];
    if (!entry) { result.code = "unknown_issuer"; return result; }
    var jwk = keyFor(entry.jwks, header.kid);
    if (!jwk) { result.code = "unknown_key"; return result; }
    if (!(await verifySig(jwk, parsed))) { result.code = "bad_signature"; return result; }

    // disclosures
    var digests = Array.isArray(payload._sd) ? payload._sd : [];
    if (disclosures.length && payload._sd_alg !== "sha-256") { result.code = "tampered"; return result; }
    var seen = {}, disclosed = {};
    for (var i = 0; i < disclosures.length; i++) {
      var digest;
      try { digest = await sha256(disclosures[i]); } catch (e) { result.code = "tampered"; return result; }
      if (digests.indexOf(digest) < 0 || seen[digest]) { result.code = "tampered"; return result; }
      seen[digest] = true;
      var item;
      try { item = b64json(disclosures[i]); } catch (e) { result.code = "tampered"; return result; }
      if (!Array.isArray(item) || item.length !== 3 || typeof item[0] !== "string" || typeof item[1] !== "string") {
        result.code = "tampered"; return result;
      }
      var name = item[1];
      if (RESERVED.indexOf(name) >= 0 || name in payload || name in disclosed) { result.code = "tampered"; return result; }
      disclosed[name] = item[2];
    }
    result.facts = {
      issuer: payload.issuer_name || payload.iss,
      iss: payload.iss,
      document_number: payload.document_number || "",
      vct: payload.vct || "",
      iat: typeof payload.iat === "number" ? payload.iat : null,
      exp: typeof payload.exp === "number" ? payload.exp : null
    };

    var failures = [];
    // holder binding
    if (!kb) {
      failures.push("no_holder_binding");
    } else {
      var holderOk = false;
      try {
        var kbJws = parseJws(kb);
        var cnf = isObject(payload.cnf) ? payload.cnf.jwk : null;
        holderOk = kbJws.header.typ === "kb+jwt" && (await verifySig(cnf, kbJws));
        if (holderOk) {
          var sdJwt = [jwt].concat(disclosures).join("~") + "~";
          if (kbJws.payload.sd_hash !== (await sha256(sdJwt))) failures.push("tampered");
          else if (typeof kbJws.payload.iat !== "number" || kbJws.payload.iat - SKEW > now) failures.push("bad_presentation_time");
          else if (typeof kbJws.payload.exp === "number" && kbJws.payload.exp + SKEW < now) failures.push("presentation_expired");
        }
      } catch (e) { holderOk = false; }
      if (!holderOk) failures.push("wrong_holder");
      result.facts.holder = holderOk;
    }
    // status
    var st = await status(store, payload, payload.iss, entry.jwks, now);
    result.facts.status = st;
    if (st.value === 1) failures.push("revoked");
    else if (st.value === 2) failures.push("suspended");
    else if (st.value !== null && st.value !== 0) failures.push("status_invalid");  // unknown value: fail closed
    // validity
    if (typeof payload.exp === "number" && payload.exp + SKEW < now) failures.push("expired");

    var order = ["malformed", "unknown_issuer", "unknown_key", "bad_signature", "tampered",
      "no_holder_binding", "wrong_holder", "bad_presentation_time", "revoked", "suspended",
      "status_invalid", "expired", "presentation_expired"];
    if (failures.length) {
      failures.sort(function (a, b) { return order.indexOf(a) - order.indexOf(b); });
      result.code = failures[0];
      return result;
    }
    var claims = {};
    Object.keys(payload).forEach(function (k) {
      if (RESERVED.indexOf(k) < 0 && CLEAR.indexOf(k) < 0) claims[k] = payload[k];
    });
    Object.keys(disclosed).forEach(function (k) { claims[k] = disclosed[k]; });
    result.valid = true;
    result.code = "valid";
    result.claims = claims;
    return result;
  }

  // --- showing the verdict -----------------------------------------------------------

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function row(dl, label, value, name) {
    var div = el("div", name ? { "data-claim": name } : {});
    div.appendChild(el("dt", {}, label));
    var dd = el("dd");
    if (value instanceof Node) dd.appendChild(value); else dd.textContent = String(value);
    div.appendChild(dd);
    dl.appendChild(div);
  }

  function day(epoch, endOfDay) {
    return new Date((epoch - (endOfDay ? 1 : 0)) * 1000).toLocaleDateString("vi-VN", { timeZone: "Asia/Ho_Chi_Minh" });
  }

  function claimValue(name, value) {
    if (name === "portrait" && typeof value === "string" && /^data:image\/(png|jpeg|webp);base64,[A-Za-z0-9+/=]+$/.test(value)) {
      return el("img", { src: value, alt: config.labels.portrait || "portrait", "class": "verify-portrait" });
    }
    if (name === "sex" && config.sexes[value]) return config.sexes[value];
    if (value === true) return S.yes;
    if (value === false) return S.no;
    if (value === null || value === "") return "\u2014";
    if (typeof value === "object") return JSON.stringify(value);
    if (typeof value === "string" && /^\d{4}-\d{2}-\d{2}$/.test(value)) {
      return value.slice(8, 10) + "/" + value.slice(5, 7) + "/" + value.slice(0, 4);
    }
    return String(value);
  }

  function show(result) {
    var box = document.getElementById("offline-result");
    box.textContent = "";
    var verdict = el("section", {
      "class": "verdict " + (result.valid ? "verdict-valid" : "verdict-invalid"),
      "data-valid": result.valid ? "true" : "false",
      role: "status"
    });
    verdict.appendChild(el("h2", { "class": "verdict-title" }, (result.valid ? "\u2713 " : "\u2717 ") + (result.valid ? S.valid : S.invalid)));
    if (!result.valid) verdict.appendChild(el("p", { "class": "verdict-reason", "data-code": result.code }, S[result.code] || result.code));
    box.appendChild(verdict);
    var f = result.facts;
    if (!f || !f.iss) return;
    var facts = el("dl", { "class": "facts" });
    if (config.types[f.vct]) row(facts, S.document_type, config.types[f.vct]);
    row(facts, S.issuer, f.issuer);
    if (f.document_number) row(facts, S.document_number, f.document_number);
    if (f.iat) row(facts, S.issued_at, day(f.iat, false));
    if (f.exp) row(facts, S.expires_at, day(f.exp, true));
    if (f.status) {
      var label = f.status.value === null ? S.status_offline : (f.status.value === 0 ? S.status_valid : S.invalid);
      row(facts, S.status, f.status.value === null ? label : label + " (" + f.status.note + ")");
    }
    if (f.holder !== undefined) row(facts, S.holder, f.holder ? S.yes : S.no);
    box.appendChild(facts);
    if (!result.valid) return;
    box.appendChild(el("h2", {}, S.disclosed));
    var claims = el("dl", { "class": "facts verify-claims", id: "offline-claims" });
    Object.keys(result.claims).forEach(function (name) {
      row(claims, config.labels[name] || name.replace(/_/g, " "), claimValue(name, result.claims[name]), name);
    });
    box.appendChild(claims);
  }

  // --- wiring ------------------------------------------------------------------------

  var store = load();
  if (!window.crypto || !window.crypto.subtle) {
    document.getElementById("offline-keys").textContent = S.keys_none;
    return;
  }
  var ready = (navigator.onLine ? refresh(store).catch(function () { return 0; }) : Promise.resolve(0))
    .then(function (loaded) {
      showKeys(store, loaded > 0);
      document.body.setAttribute("data-offline-ready", "true");
    });

  document.getElementById("offline-form").addEventListener("submit", function (event) {
    event.preventDefault();
    var text = document.getElementById("offline-input").value;
    ready.then(function () { return verify(text, store); })
      .then(show)
      .catch(function () { show({ valid: false, code: "malformed", claims: {}, facts: {} }); });
  });
})();
