/*
 * remon-charts.js — the graph widgets of remon.js, loaded by it when a page has one:
 *
 *   <canvas data-remon-chart="a.b,c.d" data-range="1h">   a chart.js graph of the series: their
 *       history (series.fetch, at the step of the range), then each new sample as it arrives.
 *       data-right="c.d"           series drawn against a second y axis on the right
 *       data-thresholds='[{"value": 200, "label": "self-fast < 200", "series": "a.b"}]'
 *                                  dashed lines across the graph (SLA thresholds)
 *       data-step="60s"            a step other than the range's
 *       data-min="0" data-max="1"  the y axis spans at least this (more when the values do)
 *   <canvas data-remon-spark="a.b">   a small line of the last hour; it grows on `remon:point` events.
 * Graphs and sparklines start when they come near the screen; their histories are fetched in
 * one batch with the others that do.
 *   <button data-remon-range="1d">     sets the range of every chart of the page (data-target: of some)
 *
 * chart.js is /static/chart.js, served from the installed package (never from the internet).
 */
(function () {
  'use strict';
  const remon = window.remon;
  if (!remon || remon.charts) return;

  const MIN = 60000;
  const HOUR = 60 * MIN;
  const DAY = 24 * HOUR;
  /** RANGES: span and step of each range; the steps are the default archives' (10s:1d, 1m:30d, 1h:1y) read at ~300 points. */
  const RANGES = {
    '1h': { span: HOUR, step: 10000 },
    '6h': { span: 6 * HOUR, step: MIN },
    '1d': { span: DAY, step: 5 * MIN },
    '1w': { span: 7 * DAY, step: 30 * MIN },
    '30d': { span: 30 * DAY, step: 2 * HOUR },
    '1y': { span: 365 * DAY, step: DAY },
  };
  const COLORS = ['#2f6fde', '#e0742b', '#2a9d5c', '#b8439f', '#8c6d1f', '#14919b', '#c23b3b', '#6b5fd3'];

  let chartLib = null;
  function loadChartJs() {
    if (window.Chart) return Promise.resolve(window.Chart);
    if (!chartLib) {
      chartLib = new Promise((resolve, reject) => {
        const s = document.createElement('script');
        s.src = '/static/chart.js';
        s.onload = () => resolve(window.Chart);
        s.onerror = () => reject(new Error('could not load /static/chart.js'));
        document.head.append(s);
      });
    }
    return chartLib;
  }

  const pad = (n) => String(n).padStart(2, '0');
  function tickLabel(t, span) {
    const d = new Date(t);
    const hm = `${pad(d.getHours())}:${pad(d.getMinutes())}`;
    if (span <= DAY) return hm;
    const md = `${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
    return span <= 7 * DAY ? `${md} ${hm}` : md;
  }

  function cssVar(el, name, fallback) {
    const v = getComputedStyle(el).getPropertyValue(name).trim();
    return v || fallback;
  }

  /** number reads an attribute's number (undefined when absent or not one). */
  const number = (v) => (v === null || v === '' || !Number.isFinite(Number(v)) ? undefined : Number(v));

  // Fetches asked for within a moment of each other go out as one batch (the sparklines and
  // graphs that come into view together).
  let waiting = [];
  let waitTimer = 0;
  /** fetchSeries is series.fetch through the shared batch: resolves to {result} or {error}. */
  function fetchSeries(params) {
    return new Promise((resolve) => {
      waiting.push({ params, resolve });
      if (!waitTimer) waitTimer = setTimeout(flushFetches, 20);
    });
  }
  async function flushFetches() {
    waitTimer = 0;
    const batch = waiting;
    waiting = [];
    const answers = await remon.batch(batch.map((w) => ({ method: 'series.fetch', params: w.params })));
    answers.forEach((a, i) => batch[i].resolve(a));
  }

  /** whenSeen runs start() once the element comes near the screen (at once without IntersectionObserver). */
  const near = new Map();
  const seen = 'IntersectionObserver' in window ? new IntersectionObserver((entries) => {
    for (const e of entries) {
      if (!e.isIntersecting) continue;
      seen.unobserve(e.target);
      const start = near.get(e.target);
      near.delete(e.target);
      if (start) start();
    }
  }, { rootMargin: '300px' }) : null;
  function whenSeen(el, start) {
    if (!seen) return start();
    near.set(el, start);
    seen.observe(el);
  }
  function unseen(el) {
    near.delete(el);
    if (seen) seen.unobserve(el);
  }

  /** points turns a fetch answer into chart points ({x, y}, null for gaps). */
  const points = (answer) => ((answer && answer.points) || []).map(([t, v]) => ({ x: t, y: v }));

  function chartWidget(canvas) {
    const names = canvas.getAttribute('data-remon-chart').split(',').map((s) => s.trim()).filter(Boolean);
    const right = new Set((canvas.getAttribute('data-right') || '').split(',').map((s) => s.trim()).filter(Boolean));
    const thresholds = JSON.parse(canvas.getAttribute('data-thresholds') || '[]');
    let range = RANGES[canvas.getAttribute('data-range')] ? canvas.getAttribute('data-range') : '1h';
    let stopped = false;
    let chart = null;
    let frame = 0;
    let generation = 0;
    const latest = new Map(); // name → time of the newest point drawn

    const span = () => RANGES[range].span;
    const step = () => remon.duration(canvas.getAttribute('data-step')) || RANGES[range].step;

    const redraw = () => {
      if (frame || !chart) return;
      frame = requestAnimationFrame(() => {
        frame = 0;
        if (stopped || !chart) return;
        const now = Date.now();
        const from = now - span();
        chart.options.scales.x.min = from;
        chart.options.scales.x.max = now;
        for (const ds of chart.data.datasets) {
          if (ds.remonThreshold) ds.data = [{ x: from, y: ds.remonThreshold }, { x: now, y: ds.remonThreshold }];
          else {
            let cut = 0;
            while (cut < ds.data.length && ds.data[cut].x < from) cut++;
            if (cut) ds.data.splice(0, cut);
            // A few known points are drawn as dots too, so that a young series shows.
            let known = 0;
            for (const p of ds.data) if (p.y !== null) known++;
            ds.pointRadius = known < 40 ? 2 : 0;
          }
        }
        chart.update('none');
      });
    };

    const load = async () => {
      const mine = ++generation;
      const to = Date.now();
      const from = to - span();
      const answers = await Promise.all(names.map((name) => fetchSeries({ name, from, to, step: step() })));
      if (stopped || mine !== generation) return;
      const missing = [];
      answers.forEach((a, i) => {
        const ds = chart.data.datasets[i];
        ds.data = a.error ? [] : points(a.result);
        if (a.error) missing.push(`${names[i]}: ${a.error.message}`);
        const last = ds.data.length ? ds.data[ds.data.length - 1].x : -Infinity;
        latest.set(names[i], last);
      });
      canvas.title = missing.join('\n');
      canvas.dataset.loaded = String(Date.now());
      redraw();
    };

    const start = async () => {
      const Chart = await loadChartJs();
      if (stopped) return;
      const grid = cssVar(canvas, '--grid', 'rgba(128,128,128,0.2)');
      const text = cssVar(canvas, '--muted', '#777');
      const datasets = names.map((name, i) => ({
        label: name,
        data: [],
        borderColor: COLORS[i % COLORS.length],
        backgroundColor: COLORS[i % COLORS.length],
        borderWidth: 1.5,
        pointRadius: 0,
        spanGaps: false,
        yAxisID: right.has(name) ? 'y1' : 'y',
      }));
      thresholds.forEach((th, i) => {
        const color = th.color || '#c23b3b';
        datasets.push({
          label: th.label || `threshold ${th.value}`,
          data: [],
          remonThreshold: Number(th.value),
          borderColor: color,
          backgroundColor: color,
          borderDash: [6, 4],
          borderWidth: 1,
          pointRadius: 0,
          yAxisID: th.series && right.has(th.series) ? 'y1' : 'y',
          order: 100 + i,
        });
      });
      chart = new Chart(canvas, {
        type: 'line',
        data: { datasets },
        options: {
          animation: false,
          parsing: false,
          normalized: true,
          responsive: true,
          maintainAspectRatio: false,
          interaction: { mode: 'nearest', axis: 'x', intersect: false },
          plugins: {
            legend: { labels: { boxWidth: 12, color: text } },
            tooltip: { callbacks: { title: (items) => (items.length ? new Date(items[0].parsed.x).toLocaleString() : '') } },
          },
          scales: {
            x: { type: 'linear', grid: { color: grid }, ticks: { color: text, maxRotation: 0, autoSkipPadding: 16, callback: (v) => tickLabel(v, span()) } },
            y: { grace: '5%', grid: { color: grid }, ticks: { color: text }, suggestedMin: number(canvas.getAttribute('data-min')), suggestedMax: number(canvas.getAttribute('data-max')) },
            y1: { grace: '5%', display: right.size > 0, position: 'right', grid: { drawOnChartArea: false }, ticks: { color: text } },
          },
        },
      });
      canvas.remonChart = { chart, setRange, reload: load };
      await load();
    };

    const setRange = (r) => {
      if (!RANGES[r] || r === range) return;
      range = r;
      canvas.setAttribute('data-range', r);
      if (chart) load().catch((err) => { canvas.title = err.message; });
    };

    const stopWatch = remon.watchSeries(names, {
      point(ev) {
        if (!chart || ev.value === undefined) return;
        const i = names.indexOf(ev.name);
        if (i < 0 || ev.t <= (latest.get(ev.name) ?? -Infinity)) return;
        latest.set(ev.name, ev.t);
        chart.data.datasets[i].data.push({ x: ev.t, y: ev.value });
        canvas.dataset.lastT = String(ev.t);
        canvas.dataset.points = String(chart.data.datasets[i].data.length);
        redraw();
      },
      resync() { if (chart) load().catch(() => {}); },
      ready() { canvas.dataset.live = 'ready'; },
    });
    whenSeen(canvas, () => start().catch((err) => {
      canvas.classList.add('remon-error');
      canvas.title = err.message;
      const note = document.createElement('p');
      note.className = 'remon-error';
      note.textContent = err.message;
      canvas.after(note);
    }));
    return () => {
      stopped = true;
      unseen(canvas);
      stopWatch();
      cancelAnimationFrame(frame);
      if (chart) chart.destroy();
      delete canvas.remonChart;
    };
  }

  // Sparklines: fetched in batches as they scroll into view, drawn by hand (no chart.js).
  const SPARK_SPAN = HOUR;
  const SPARK_POINTS = 120;
  const sparks = new WeakMap(); // canvas → {points, loaded}

  function drawSpark(canvas) {
    const s = sparks.get(canvas);
    if (!s || !canvas.isConnected) return;
    const dpr = window.devicePixelRatio || 1;
    const w = canvas.clientWidth || 100;
    const h = canvas.clientHeight || 24;
    if (canvas.width !== Math.round(w * dpr)) canvas.width = Math.round(w * dpr);
    if (canvas.height !== Math.round(h * dpr)) canvas.height = Math.round(h * dpr);
    const ctx = canvas.getContext('2d');
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, w, h);
    const now = Date.now();
    const from = now - SPARK_SPAN;
    const pts = s.points.filter((p) => p[0] >= from);
    s.points = pts;
    const vals = pts.filter((p) => p[1] !== null).map((p) => p[1]);
    canvas.dataset.points = String(vals.length);
    if (vals.length === 0) return;
    let lo = Math.min(...vals);
    let hi = Math.max(...vals);
    if (hi === lo) { hi += 1; lo -= 1; }
    const x = (t) => ((t - from) / SPARK_SPAN) * (w - 2) + 1;
    const y = (v) => h - 2 - ((v - lo) / (hi - lo)) * (h - 4);
    ctx.strokeStyle = getComputedStyle(canvas).color;
    ctx.lineWidth = 1.25;
    ctx.beginPath();
    let pen = false;
    for (const [t, v] of pts) {
      if (v === null) { pen = false; continue; }
      if (pen) ctx.lineTo(x(t), y(v));
      else ctx.moveTo(x(t), y(v));
      pen = true;
    }
    ctx.stroke();
    if (vals.length === 1) {
      ctx.fillStyle = ctx.strokeStyle;
      ctx.fillRect(x(pts.find((p) => p[1] !== null)[0]) - 1, y(vals[0]) - 1, 2, 2);
    }
  }

  async function loadSpark(canvas) {
    const to = Date.now();
    // Raw samples while they are few, averaged to at most SPARK_POINTS when they are not.
    const a = await fetchSeries({ name: canvas.getAttribute('data-remon-spark'), from: to - SPARK_SPAN, to, points: SPARK_POINTS });
    const s = sparks.get(canvas);
    if (!s) return;
    const early = s.points;
    s.points = a.error ? [] : ((a.result && a.result.points) || []).slice();
    const last = s.points.length ? s.points[s.points.length - 1][0] : -Infinity;
    for (const p of early) if (p[0] > last) s.points.push(p);
    s.loaded = true;
    if (a.error) canvas.title = a.error.message;
    drawSpark(canvas);
  }

  function sparkWidget(canvas) {
    sparks.set(canvas, { points: [], loaded: false });
    const onPoint = (ev) => {
      const s = sparks.get(canvas);
      if (!s) return;
      s.points.push([ev.detail.t, ev.detail.value]);
      if (s.loaded) drawSpark(canvas);
    };
    canvas.addEventListener('remon:point', onPoint);
    whenSeen(canvas, () => loadSpark(canvas).catch((err) => { canvas.title = err.message; }));
    return () => {
      canvas.removeEventListener('remon:point', onPoint);
      unseen(canvas);
      sparks.delete(canvas);
    };
  }

  function rangeWidget(button) {
    const onClick = () => {
      const r = button.getAttribute('data-remon-range');
      const scope = button.getAttribute('data-target') ? document.querySelectorAll(button.getAttribute('data-target')) : [document];
      for (const root of scope) for (const c of root.querySelectorAll('[data-remon-chart]')) {
        if (c.remonChart) c.remonChart.setRange(r);
        else c.setAttribute('data-range', r);
      }
      for (const b of document.querySelectorAll('[data-remon-range]')) b.setAttribute('aria-pressed', String(b.getAttribute('data-remon-range') === r));
      const url = new URL(location.href);
      url.searchParams.set('range', r);
      history.replaceState(history.state, '', url);
    };
    button.addEventListener('click', onClick);
    return () => button.removeEventListener('click', onClick);
  }

  remon.charts = { RANGES, loadChartJs };
  remon.widget('data-remon-chart', chartWidget);
  remon.widget('data-remon-spark', sparkWidget);
  remon.widget('data-remon-range', rangeWidget);
})();
