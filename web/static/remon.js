/*
 * remon.js — the client script of remon's pages (the built-in dashboard and pages users drop
 * into web/). It gives a page:
 *
 *   remon.rpc(method, params)          POST /rpc, one JSON-RPC call; its result or a RemonRpcError
 *   remon.batch([{method, params}])    one POST /rpc for many calls; [{result} | {error}] in order
 *   remon.subscribe(topic, params, onEvents, {onReady})   a live subscription over WebSocket /rpc
 *   remon.widget(attr, start)          declare a widget: start(el) runs for each element with attr
 *   remon.scan(root) / remon.unscan(root)   start / stop the widgets in a part of the page
 *
 * A write refused for want of the node token (HTTP 401, or JSON-RPC error -32001) asks for the
 * token once in a small dialog, logs in (POST /api/login sets an HttpOnly cookie) and retries.
 *
 * The widgets (values are always inserted as text, never as HTML) are in remon-widgets.js,
 * which the layout loads beside this file and this file loads for a page that does not:
 *   <span data-remon-last="series.name">           the series' last value, kept current
 *   <div data-remon-rpc="method" data-params='{..}' data-every="5s" data-render="text|table|list|result">
 *   <button data-remon-call="method" data-params='{..}' data-confirm="..." data-done="refresh|reload">
 *   <form data-remon-call="method" data-params='{..}'>  params = data-params + the form's fields
 *   <section id="x" data-remon-refresh="topic" data-params='{..}' data-every="30s">  re-rendered
 *       from the server when the topic has events (or every N s, or after a call inside it)
 *   <time datetime="ISO" data-remon-ago>            "3m ago" / "in 5m", kept current
 *   <input data-remon-filter="#list" data-count="#n">   rows ([data-search], else a table's rows)
 *       whose text has every word typed; the others hidden
 *   <div data-remon-blocks>                          rows [data-block] kept current from results
 * and, in remon-charts.js (loaded when a page has one), data-remon-chart, data-remon-spark,
 * data-remon-range. docs/dashboard.md describes them all.
 */
(function () {
  'use strict';

  /** format renders a value for people: up to 4 significant digits, '–' for none. */
  function format(v) {
    if (v === null || v === undefined || v === '') return '–';
    if (typeof v === 'boolean') return v ? 'true' : 'false';
    if (typeof v !== 'number') return String(v);
    if (!Number.isFinite(v)) return String(v);
    if (Number.isInteger(v) || Math.abs(v) >= 1000) return String(Math.round(v));
    return String(Number(v.toPrecision(4)));
  }

  /** duration reads "500ms", "5s", "2m", "1h" as milliseconds (undefined when it is none of them). */
  function duration(text) {
    const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/.exec(String(text || ''));
    if (!m) return undefined;
    return Number(m[1]) * { ms: 1, s: 1000, m: 60000, h: 3600000, d: 86400000 }[m[2] || 's'];
  }

  /** ago says how far a time is from now: "12s ago", "in 5m", "3d ago". */
  function ago(t, now) {
    const ms = (now === undefined ? Date.now() : now) - t;
    const a = Math.abs(ms);
    const text = a < 1500 ? 'now' : a < 60000 ? `${Math.round(a / 1000)}s` : a < 3600000 ? `${Math.round(a / 60000)}m` : a < 86400000 ? `${Math.round(a / 3600000)}h` : `${Math.round(a / 86400000)}d`;
    if (text === 'now') return text;
    return ms >= 0 ? `${text} ago` : `in ${text}`;
  }

  // In Node (a page script on the server requires this file) only the helpers above exist.
  if (typeof window === 'undefined') {
    module.exports = { format, duration, ago };
    return;
  }
  if (window.remon) return;
  const remon = (window.remon = { format, duration, ago });

  /** RemonRpcError is a JSON-RPC error: message, JSON-RPC code, and remon's code (REMON_ERR_...). */
  class RemonRpcError extends Error {
    constructor(message, rpcCode, code, data) {
      super(message);
      this.name = 'RemonRpcError';
      this.rpcCode = rpcCode;
      this.code = code;
      this.data = data;
    }
  }
  remon.RpcError = RemonRpcError;

  const UNAUTHORIZED = 'REMON_ERR_OP_UNAUTHORIZED';
  const BATCH_MAX = 100;
  let seq = 0;

  function errorOf(e) {
    const data = e && e.data;
    return new RemonRpcError(String((e && e.message) || 'RPC failed'), e && e.code, (data && data.code) || undefined, data);
  }

  async function postRpc(body) {
    const res = await fetch('/rpc', {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify(body),
    });
    const text = await res.text();
    let answer;
    try {
      answer = text ? JSON.parse(text) : undefined;
    } catch (_e) {
      throw new RemonRpcError(`POST /rpc answered ${res.status} with something other than JSON`, -32603);
    }
    return { status: res.status, answer };
  }

  function refusedForToken(status, answer) {
    if (status === 401) return true;
    return [].concat(answer || []).some((a) => a && a.error && (a.error.code === -32001 || (a.error.data && a.error.data.code === UNAUTHORIZED)));
  }

  /** send posts a call or a batch; refused for want of the token, it asks for it once and retries. */
  async function send(body) {
    let r = await postRpc(body);
    if (refusedForToken(r.status, r.answer) && (await remon.login())) r = await postRpc(body);
    return r;
  }

  remon.rpc = async function (method, params) {
    const id = ++seq;
    const { status, answer } = await send({ jsonrpc: '2.0', id, method, params: params || {} });
    if (!answer || typeof answer !== 'object' || Array.isArray(answer)) throw new RemonRpcError(`POST /rpc answered ${status} without a JSON-RPC answer`, -32603);
    if (answer.error) throw errorOf(answer.error);
    return answer.result;
  };

  remon.batch = async function (calls) {
    const out = new Array(calls.length);
    const chunks = [];
    for (let i = 0; i < calls.length; i += BATCH_MAX) chunks.push(calls.slice(i, i + BATCH_MAX).map((c, j) => ({ c, at: i + j })));
    await Promise.all(chunks.map(async (chunk) => {
      const ids = new Map();
      const body = chunk.map(({ c, at }) => {
        const id = ++seq;
        ids.set(id, at);
        return { jsonrpc: '2.0', id, method: c.method, params: c.params || {} };
      });
      try {
        const { status, answer } = await send(body);
        if (!Array.isArray(answer)) throw answer && answer.error ? errorOf(answer.error) : new RemonRpcError(`POST /rpc answered ${status} without a batch answer`, -32603);
        for (const a of answer) {
          const at = ids.get(a && a.id);
          if (at !== undefined) out[at] = a.error ? { error: errorOf(a.error) } : { result: a.result };
        }
      } catch (err) {
        for (const { at } of chunk) out[at] = { error: err };
      }
    }));
    for (let i = 0; i < out.length; i++) if (!out[i]) out[i] = { error: new RemonRpcError('no answer to this call in the batch', -32603) };
    return out;
  };

  remon.session = async function () {
    const res = await fetch('/api/session', { credentials: 'same-origin', headers: { accept: 'application/json' } });
    return res.json();
  };

  let asking = null;
  /** login asks for the node token (one dialog however many calls wait for it); true once logged in. */
  remon.login = function () {
    if (!asking) asking = askToken().finally(() => { asking = null; });
    return asking;
  };

  function element(tag, attrs, text) {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) el.setAttribute(k, v);
    if (text !== undefined) el.textContent = text;
    return el;
  }

  function askToken() {
    return new Promise((resolve) => {
      const dialog = element('dialog', { class: 'remon-login', 'aria-labelledby': 'remon-login-title' });
      const form = element('form', { method: 'dialog' });
      const input = element('input', { type: 'password', name: 'token', autocomplete: 'current-password', required: '', 'aria-label': 'node token' });
      const problem = element('p', { class: 'remon-login-error', role: 'alert' });
      const cancel = element('button', { type: 'button', value: 'cancel' }, 'Cancel');
      const ok = element('button', { type: 'submit', value: 'login', class: 'primary' }, 'Log in');
      form.append(
        element('h2', { id: 'remon-login-title' }, 'Token needed'),
        element('p', {}, 'This node asks for its token (node.token) before a change. It is kept in this browser as a cookie.'),
        input, problem, element('div', { class: 'remon-login-buttons' }),
      );
      form.lastChild.append(cancel, ok);
      dialog.append(form);
      document.body.append(dialog);
      let done = false;
      const finish = (v) => {
        if (done) return;
        done = true;
        dialog.close();
        dialog.remove();
        resolve(v);
      };
      cancel.addEventListener('click', () => finish(false));
      dialog.addEventListener('cancel', () => finish(false));
      form.addEventListener('submit', async (ev) => {
        ev.preventDefault();
        ok.disabled = true;
        problem.textContent = '';
        try {
          const res = await fetch('/api/login', {
            method: 'POST', credentials: 'same-origin', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: input.value }),
          });
          if (res.ok) return finish(true);
          const body = await res.json().catch(() => ({}));
          problem.textContent = res.status === 401 ? 'Wrong token; try again.' : String(body.error || `login failed (${res.status})`);
          input.select();
        } catch (err) {
          problem.textContent = `login failed: ${err.message}`;
        } finally {
          ok.disabled = false;
        }
      });
      dialog.showModal();
      input.focus();
    });
  }

  // ---- live subscriptions over WebSocket /rpc -------------------------------------------------

  const live = { ws: null, open: false, subs: new Set(), byId: new Map(), waiting: new Map(), retry: 0, timer: 0 };

  function wsCall(method, params) {
    return new Promise((resolve, reject) => {
      if (!live.open) return reject(new RemonRpcError('not connected', -32603));
      const id = ++seq;
      live.waiting.set(id, { resolve, reject });
      live.ws.send(JSON.stringify({ jsonrpc: '2.0', id, method, params }));
    });
  }

  function connect() {
    if (live.ws || live.timer) return;
    const ws = new WebSocket(`${location.protocol === 'https:' ? 'wss:' : 'ws:'}//${location.host}/rpc`);
    live.ws = ws;
    ws.onopen = () => {
      live.open = true;
      live.retry = 0;
      document.documentElement.dataset.remonLive = 'open';
      for (const sub of live.subs) subscribeOn(sub);
    };
    ws.onmessage = (m) => {
      let msg;
      try { msg = JSON.parse(m.data); } catch (_e) { return; }
      for (const one of [].concat(msg)) received(one);
    };
    ws.onclose = () => {
      live.ws = null;
      live.open = false;
      document.documentElement.dataset.remonLive = 'closed';
      live.byId.clear();
      for (const sub of live.subs) sub.id = null;
      for (const w of live.waiting.values()) w.reject(new RemonRpcError('connection closed', -32603));
      live.waiting.clear();
      if (live.subs.size === 0) return;
      const wait = Math.min(10000, 500 * 2 ** live.retry++);
      live.timer = setTimeout(() => { live.timer = 0; connect(); }, wait);
    };
  }

  function received(msg) {
    if (!msg || typeof msg !== 'object') return;
    if (msg.method === 'live' && msg.params) {
      const sub = live.byId.get(msg.params.subscription);
      if (sub) {
        try { sub.onEvents(msg.params.events || [], msg.params); } catch (err) { console.error('remon: a live handler failed', err); }
      }
      return;
    }
    const w = live.waiting.get(msg.id);
    if (!w) return;
    live.waiting.delete(msg.id);
    if (msg.error) w.reject(errorOf(msg.error));
    else w.resolve(msg.result);
  }

  async function subscribeOn(sub) {
    try {
      const r = await wsCall('live.subscribe', Object.assign({}, sub.params, { topic: sub.topic }));
      if (sub.closed) {
        wsCall('live.unsubscribe', { subscription: r.subscription }).catch(() => {});
        return;
      }
      sub.id = r.subscription;
      live.byId.set(sub.id, sub);
      if (sub.onReady) sub.onReady(sub.ready++ > 0);
    } catch (err) {
      if (live.open) console.warn(`remon: live.subscribe ${sub.topic} refused: ${err.message}`);
    }
  }

  /**
   * subscribe listens to a live topic (series, blocks, events, state): onEvents(events, params)
   * gets each batch; options.onReady(resumed) runs after every (re)subscription, resumed true
   * after a reconnect (events may have been missed meanwhile). Returns {close()}.
   */
  remon.subscribe = function (topic, params, onEvents, options) {
    const sub = { topic, params: params || {}, onEvents, onReady: options && options.onReady, id: null, closed: false, ready: 0 };
    live.subs.add(sub);
    if (live.open) subscribeOn(sub);
    else connect();
    return {
      close() {
        if (sub.closed) return;
        sub.closed = true;
        live.subs.delete(sub);
        if (sub.id !== null) {
          live.byId.delete(sub.id);
          wsCall('live.unsubscribe', { subscription: sub.id }).catch(() => {});
        }
      },
    };
  };

  // One `series` subscription for every series widget of the page, renewed when names are added.
  const seriesWatch = { listeners: new Map(), sub: null, names: '', timer: 0, ready: false };

  function renewSeries() {
    seriesWatch.timer = 0;
    const names = [...seriesWatch.listeners.keys()].sort();
    const key = names.join(',');
    if (key === seriesWatch.names) {
      if (seriesWatch.ready) for (const set of seriesWatch.listeners.values()) for (const l of set) if (l.ready) l.ready();
      return;
    }
    seriesWatch.names = key;
    seriesWatch.ready = false;
    const old = seriesWatch.sub;
    seriesWatch.sub = names.length === 0 ? null : remon.subscribe('series', { names }, (events) => {
      for (const ev of events) {
        const set = seriesWatch.listeners.get(ev.name);
        if (set) for (const l of set) l.point(ev);
      }
    }, {
      onReady(resumed) {
        if (old) old.close();
        seriesWatch.ready = true;
        for (const set of seriesWatch.listeners.values()) {
          for (const l of set) {
            if (resumed && l.resync) l.resync();
            if (l.ready) l.ready();
          }
        }
      },
    });
    if (!seriesWatch.sub && old) old.close();
  }

  /**
   * watchSeries calls listener.point({name, t, value}) for each sample of the names,
   * listener.ready() once the subscription holds them, listener.resync() after a reconnect
   * (samples may have been missed); returns a stop function.
   */
  remon.watchSeries = function (names, listener) {
    for (const n of names) {
      if (!seriesWatch.listeners.has(n)) seriesWatch.listeners.set(n, new Set());
      seriesWatch.listeners.get(n).add(listener);
    }
    if (!seriesWatch.timer) seriesWatch.timer = setTimeout(renewSeries, 0);
    return () => {
      for (const n of names) {
        const set = seriesWatch.listeners.get(n);
        if (!set) continue;
        set.delete(listener);
        if (set.size === 0) seriesWatch.listeners.delete(n);
      }
      if (!seriesWatch.timer) seriesWatch.timer = setTimeout(renewSeries, 50);
    };
  };

  // ---- helpers pages use ------------------------------------------------------------------------

  /** params reads an element's data-params (JSON), {} when absent; a bad one is reported on the element. */
  remon.params = function (el) {
    const raw = el.getAttribute('data-params');
    if (!raw) return {};
    try {
      return JSON.parse(raw);
    } catch (err) {
      throw new Error(`data-params is not JSON: ${err.message}`);
    }
  };

  /** element makes an element with attributes and text (never HTML). */
  remon.element = element;

  let toastBox = null;
  /** toast shows a short message at the bottom of the page for a few seconds. */
  remon.toast = function (text, kind) {
    if (!toastBox || !toastBox.isConnected) {
      toastBox = element('div', { class: 'remon-toasts', role: 'status', 'aria-live': 'polite' });
      document.body.append(toastBox);
    }
    const t = element('div', { class: `remon-toast ${kind || ''}` }, text);
    toastBox.append(t);
    setTimeout(() => t.remove(), kind === 'error' ? 8000 : 4000);
  };

  // ---- widgets ------------------------------------------------------------------------------------

  const widgets = [];
  const running = new WeakMap(); // element → Map(attr → stop function)
  /** Attributes whose widgets live in remon-charts.js, loaded when a page has one. */
  const LAZY = ['data-remon-chart', 'data-remon-spark', 'data-remon-range'];
  let lazyLoading = null;

  /** loadScript adds a script of the node's to the page; resolves once it ran. */
  function loadScript(src) {
    return new Promise((resolve, reject) => {
      const s = element('script', { src });
      s.onload = resolve;
      s.onerror = () => reject(new Error(`could not load ${src}`));
      document.head.append(s);
    });
  }

  /** The page's widgets run once it is parsed (started); a widget declared later starts at once. */
  let started = false;

  /** widget declares a widget: start(el) for each element carrying attr; it may return a stop function. */
  remon.widget = function (attr, start) {
    widgets.push({ attr, start });
    if (started) remon.scan(document);
  };

  function startOn(el, w) {
    let map = running.get(el);
    if (map && map.has(w.attr)) return;
    if (!map) running.set(el, (map = new Map()));
    map.set(w.attr, null);
    try {
      const stop = w.start(el);
      map.set(w.attr, typeof stop === 'function' ? stop : null);
    } catch (err) {
      el.classList.add('remon-error');
      el.setAttribute('title', `${w.attr}: ${err.message}`);
      console.error(`remon: ${w.attr} failed`, el, err);
    }
  }

  remon.scan = function (root) {
    root = root || document;
    const all = root === document ? document.documentElement : root;
    for (const w of widgets) {
      if (all.matches && all.matches(`[${w.attr}]`)) startOn(all, w);
      for (const el of root.querySelectorAll(`[${w.attr}]`)) startOn(el, w);
    }
    if (!lazyLoading && !widgets.some((w) => w.attr === LAZY[0]) && LAZY.some((a) => root.querySelector(`[${a}]`))) {
      lazyLoading = loadScript('/static/remon-charts.js').catch((err) => console.error(`remon: ${err.message}`));
    }
  };

  /**
   * refresh re-renders a region (an element with an id) from the server's current page,
   * asked for with ?_region=ID so that its script may leave out what the region does not show.
   */
  remon.refresh = async function (region) {
    if (!region.id) throw new Error('a refreshed region needs an id');
    // ?_region= tells the page script which part is wanted (it may skip the rest's work).
    const url = new URL(location.href);
    url.searchParams.set('_region', region.id);
    const res = await fetch(url, { credentials: 'same-origin', headers: { accept: 'text/html' } });
    if (!res.ok) throw new Error(`${location.pathname} answered ${res.status}`);
    const doc = new DOMParser().parseFromString(await res.text(), 'text/html');
    const fresh = doc.getElementById(region.id);
    if (!fresh) return;
    const open = new Set([...region.querySelectorAll('details[open][id]')].map((d) => d.id));
    const focused = document.activeElement && region.contains(document.activeElement) ? document.activeElement.id : '';
    for (const el of region.children) remon.unscan(el);
    region.replaceChildren(...[...document.adoptNode(fresh).childNodes]);
    for (const d of region.querySelectorAll('details[id]')) if (open.has(d.id)) d.open = true;
    remon.scan(region);
    if (focused && document.getElementById(focused)) document.getElementById(focused).focus();
    region.dispatchEvent(new CustomEvent('remon:refreshed', { bubbles: true }));
  };

  /** unscan stops the widgets of the elements under root (before they are replaced). */
  remon.unscan = function (root) {
    for (const el of [root, ...root.querySelectorAll('*')]) {
      const map = running.get(el);
      if (!map) continue;
      for (const stop of map.values()) if (stop) try { stop(); } catch (_e) { /* already gone */ }
      running.delete(el);
    }
  };

  // The widgets of remon-widgets.js: the layout loads that file beside this one; a page that
  // loads only this one gets it here.
  const first = async () => {
    if (!remon.widgetsLoaded) await loadScript('/static/remon-widgets.js').catch((err) => console.error(`remon: ${err.message}`));
    started = true;
    remon.scan(document);
    document.documentElement.dataset.remonReady = 'true';
    if (performance.mark) performance.mark('remon:ready');
  };
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', first);
  else first();
})();
