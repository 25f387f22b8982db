/*
 * remon-widgets.js — the declarative widgets of remon.js (see its header): last value, RPC
 * refills, calls, refreshed regions, relative times, filters, the live block list. The layout
 * loads it beside remon.js; remon.js loads it for a page that does not.
 */
(function () {
  'use strict';
  const remon = window.remon;
  if (!remon || remon.widgetsLoaded) return;
  remon.widgetsLoaded = true;

  // data-remon-last: a series' last value, from its recent history, then live.
  remon.widget('data-remon-last', (el) => {
    const name = el.getAttribute('data-remon-last');
    let latest = -Infinity;
    const show = (t, v) => {
      if (t < latest) return;
      latest = t;
      el.textContent = remon.format(v);
      el.dataset.t = String(t);
    };
    remon.rpc('series.fetch', { name, from: Date.now() - 86400000 }).then((r) => {
      const pts = (r && r.points) || [];
      for (let i = pts.length - 1; i >= 0; i--) if (pts[i][1] !== null) return show(pts[i][0], pts[i][1]);
      if (latest === -Infinity) el.textContent = '–';
    }, (err) => { el.title = err.message; el.textContent = '–'; });
    return remon.watchSeries([name], { point: (ev) => show(ev.t, ev.value) });
  });

  function fill(el, value, how) {
    const cols = (el.getAttribute('data-columns') || '').split(',').map((s) => s.trim()).filter(Boolean);
    const cell = (v) => (v !== null && typeof v === 'object' ? JSON.stringify(v) : remon.format(v));
    if (how === 'list') {
      const item = el.getAttribute('data-item');
      const ul = remon.element('ul');
      for (const v of [].concat(value === undefined ? [] : value)) ul.append(remon.element('li', {}, item && v && typeof v === 'object' ? cell(v[item]) : cell(v)));
      el.replaceChildren(ul);
    } else if (how === 'table') {
      const table = remon.element('table');
      const rows = Array.isArray(value) ? value : value && typeof value === 'object' ? Object.entries(value).map(([k, v]) => ({ key: k, value: v })) : [];
      const keys = cols.length ? cols : [...new Set(rows.slice(0, 50).flatMap((r) => (r && typeof r === 'object' ? Object.keys(r) : ['value'])))];
      const head = remon.element('tr');
      for (const k of keys) head.append(remon.element('th', { scope: 'col' }, k));
      table.append(remon.element('thead'), remon.element('tbody'));
      table.tHead.append(head);
      for (const r of rows) {
        const tr = remon.element('tr');
        for (const k of keys) tr.append(remon.element('td', { 'data-label': k }, cell(r && typeof r === 'object' ? r[k] : r)));
        table.tBodies[0].append(tr);
      }
      if (rows.length === 0) {
        const tr = remon.element('tr');
        tr.append(remon.element('td', { colspan: String(keys.length || 1), class: 'empty' }, 'none'));
        table.tBodies[0].append(tr);
      }
      el.replaceChildren(table);
    } else if (how === 'result' && value && typeof value.ok === 'boolean') {
      const took = typeof value.durationMs === 'number' ? ` in ${remon.format(value.durationMs)} ms` : '';
      el.textContent = value.ok ? `ran${took}: ok` : `ran${took}: failed: ${value.message}`;
      el.classList.toggle('remon-error', !value.ok);
    } else {
      el.textContent = typeof value === 'string' ? value : cell(value);
    }
  }

  // data-remon-rpc: an element refilled by an RPC call (every data-every).
  remon.widget('data-remon-rpc', (el) => {
    const method = el.getAttribute('data-remon-rpc');
    const params = remon.params(el);
    const how = el.getAttribute('data-render') || 'text';
    const every = remon.duration(el.getAttribute('data-every'));
    let stopped = false;
    const load = async () => {
      if (stopped || document.hidden) return;
      try {
        fill(el, await remon.rpc(method, params), how);
        el.classList.remove('remon-error');
        el.removeAttribute('title');
      } catch (err) {
        el.classList.add('remon-error');
        el.title = err.message;
        if (!el.firstChild) el.textContent = err.message;
      }
    };
    load();
    const timer = every ? setInterval(load, Math.max(500, every)) : 0;
    const visible = () => { if (!document.hidden) load(); };
    if (every) document.addEventListener('visibilitychange', visible);
    return () => {
      stopped = true;
      clearInterval(timer);
      document.removeEventListener('visibilitychange', visible);
    };
  });

  function formParams(form) {
    const out = {};
    for (const [k, v] of new FormData(form)) {
      if (v === '') continue;
      const input = form.elements[k];
      out[k] = input && input.type === 'number' ? Number(v) : v;
    }
    return out;
  }

  // data-remon-call: a button (on click) or a form (on submit) that calls a method.
  remon.widget('data-remon-call', (el) => {
    const isForm = el.tagName === 'FORM';
    const onAct = async (ev) => {
      ev.preventDefault();
      const ask = el.getAttribute('data-confirm');
      if (ask && !window.confirm(ask)) return;
      const params = Object.assign({}, remon.params(el), isForm ? formParams(el) : {});
      const button = isForm ? el.querySelector('[type=submit]') : el;
      if (button) button.disabled = true;
      el.setAttribute('aria-busy', 'true');
      try {
        const result = await remon.rpc(el.getAttribute('data-remon-call'), params);
        const out = el.getAttribute('data-out');
        if (out && document.querySelector(out)) fill(document.querySelector(out), result, el.getAttribute('data-render') || 'text');
        const ok = el.getAttribute('data-ok');
        if (ok) remon.toast(ok, 'ok');
        el.dispatchEvent(new CustomEvent('remon:done', { bubbles: true, detail: result }));
        const done = el.getAttribute('data-done') || 'refresh';
        if (done === 'reload') location.reload();
        else if (done === 'refresh') {
          const region = el.closest('[data-remon-refresh]');
          if (region) await remon.refresh(region);
        }
      } catch (err) {
        remon.toast(`${el.getAttribute('data-remon-call')}: ${err.message}`, 'error');
        el.dispatchEvent(new CustomEvent('remon:failed', { bubbles: true, detail: err }));
      } finally {
        if (button && button.isConnected) button.disabled = false;
        el.removeAttribute('aria-busy');
      }
    };
    el.addEventListener(isForm ? 'submit' : 'click', onAct);
    return () => el.removeEventListener(isForm ? 'submit' : 'click', onAct);
  });

  // data-remon-refresh: a region re-rendered by the server on a topic's events or every N s.
  remon.widget('data-remon-refresh', (el) => {
    const topic = el.getAttribute('data-remon-refresh');
    const every = remon.duration(el.getAttribute('data-every'));
    let timer = 0;
    let busy = false;
    const later = (ms) => {
      if (!timer) timer = setTimeout(async () => {
        timer = 0;
        if (busy) return later(200);
        busy = true;
        try { await remon.refresh(el); } catch (err) { console.warn(`remon: refresh of #${el.id}: ${err.message}`); } finally { busy = false; }
      }, ms);
    };
    const sub = topic ? remon.subscribe(topic, remon.params(el), () => later(150), { onReady: (resumed) => { if (resumed) later(0); } }) : null;
    const tick = every ? setInterval(() => { if (!document.hidden) later(0); }, Math.max(1000, every)) : 0;
    return () => {
      if (sub) sub.close();
      clearInterval(tick);
      clearTimeout(timer);
    };
  });

  // data-remon-ago: a <time datetime> shown relative to now (its title: the time itself).
  const agoEls = new Set();
  const longTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
  function showAgo(el) {
    const t = Date.parse(el.getAttribute('datetime'));
    if (Number.isNaN(t)) return;
    const text = remon.ago(t);
    if (el.textContent !== text) el.textContent = text;
    if (el.remonTime !== t) {
      el.remonTime = t;
      el.title = longTime.format(t);
    }
  }
  setInterval(() => { for (const el of agoEls) el.isConnected ? showAgo(el) : agoEls.delete(el); }, 5000);
  remon.widget('data-remon-ago', (el) => {
    showAgo(el);
    agoEls.add(el);
    return () => agoEls.delete(el);
  });

  // data-remon-filter: an input that keeps the rows of a table whose text has every word typed.
  remon.widget('data-remon-filter', (input) => {
    const table = document.querySelector(input.getAttribute('data-remon-filter'));
    if (!table) throw new Error(`no element ${input.getAttribute('data-remon-filter')}`);
    const count = document.querySelector(input.getAttribute('data-count') || 'none');
    const q = new URLSearchParams(location.search).get('q');
    if (q && !input.value) input.value = q;
    let timer = 0;
    const apply = () => {
      timer = 0;
      const words = input.value.toLowerCase().split(/\s+/).filter(Boolean);
      const tagged = table.querySelectorAll('[data-search]');
      const rows = tagged.length || !table.tBodies ? tagged : table.tBodies[0].rows;
      let shown = 0;
      for (const row of rows) {
        const text = (row.getAttribute('data-search') || row.textContent).toLowerCase();
        const keep = words.every((w) => text.includes(w));
        if (row.hidden === keep) row.hidden = !keep;
        if (keep) shown++;
      }
      if (count) count.textContent = words.length ? `${shown} of ${rows.length}` : `${rows.length}`;
      const url = new URL(location.href);
      if (input.value) url.searchParams.set('q', input.value);
      else url.searchParams.delete('q');
      history.replaceState(history.state, '', url);
      for (const b of document.querySelectorAll('[data-remon-filter-set]')) b.setAttribute('aria-pressed', String(b.getAttribute('data-remon-filter-set') === input.value));
    };
    const onInput = () => { if (!timer) timer = setTimeout(apply, 60); };
    const onSet = (ev) => {
      const b = ev.target.closest('[data-remon-filter-set]');
      if (!b) return;
      input.value = b.getAttribute('data-remon-filter-set');
      apply();
    };
    input.addEventListener('input', onInput);
    document.addEventListener('click', onSet);
    table.addEventListener('remon:filter', apply);
    apply();
    return () => {
      input.removeEventListener('input', onInput);
      document.removeEventListener('click', onSet);
      table.removeEventListener('remon:filter', apply);
    };
  });

  // data-remon-blocks: a list of blocks (rows [data-block]) kept current from block results.
  remon.widget('data-remon-blocks', (table) => {
    const rows = new Map();
    for (const row of table.querySelectorAll('[data-block]')) rows.set(row.getAttribute('data-block'), row);
    let countTimer = 0;
    const recount = () => {
      countTimer = 0;
      const n = { ok: 0, fail: 0, unknown: 0 };
      for (const tr of rows.values()) n[tr.getAttribute('data-status')] = (n[tr.getAttribute('data-status')] || 0) + 1;
      for (const el of document.querySelectorAll('[data-remon-status-count]')) el.textContent = String(n[el.getAttribute('data-remon-status-count')] || 0);
    };
    const sub = remon.subscribe('blocks', {}, (events) => {
      for (const ev of events) {
        const tr = rows.get(ev.block);
        if (!tr) continue;
        const status = ev.ok ? 'ok' : 'fail';
        const was = tr.getAttribute('data-status');
        if (was !== status) {
          tr.setAttribute('data-status', status);
          tr.setAttribute('data-search', (tr.getAttribute('data-search') || '').replace(/status:\S+/, `status:${status}`));
          const s = tr.querySelector('[data-cell=status]');
          if (s) s.textContent = status;
          if (!countTimer) countTimer = setTimeout(recount, 300);
        }
        const v = tr.querySelector('[data-cell=value]');
        const field = v && v.getAttribute('data-field');
        const value = !field ? undefined : field === 'up' ? (ev.ok ? 1 : 0) : field === 'duration_ms' ? ev.duration_ms : ev.fields && ev.fields[field];
        if (typeof value === 'number') {
          v.querySelector('.v').textContent = remon.format(value);
          const spark = tr.querySelector('[data-remon-spark]');
          if (spark) spark.dispatchEvent(new CustomEvent('remon:point', { detail: { t: ev.t, value } }));
        }
        const e = tr.querySelector('[data-cell=error]');
        if (e) e.textContent = ev.ok ? '' : String(ev.message || '');
        const last = tr.querySelector('[data-cell=last] time');
        if (last) {
          last.setAttribute('datetime', new Date(ev.t).toISOString());
          showAgo(last);
        }
      }
    });
    return () => { sub.close(); clearTimeout(countTimer); };
  });

})();
