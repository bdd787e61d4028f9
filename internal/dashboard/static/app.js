// ossimport dashboard: reads the JSON API every few seconds and updates
// the page in place (open sections stay open). No framework; every value
// from the server is set as text, never parsed as HTML.
'use strict';

(() => {
  const TOKEN_KEY = 'ossimport.dashboard.token';
  const SVGNS = 'http://www.w3.org/2000/svg';
  const params = new URLSearchParams(window.location.search);
  const st = {
    info: null,
    refreshMs: 2000,
    fixedRefresh: false,
    timer: 0,
    gen: 0,
    jobs: new Map(), // name -> card
  };

  const $ = (id) => document.getElementById(id);

  // --- token, kept for this tab only -----------------------------------

  function getToken() {
    try {
      return window.sessionStorage.getItem(TOKEN_KEY) || '';
    } catch (e) {
      return '';
    }
  }

  function setToken(t) {
    try {
      if (t) {
        window.sessionStorage.setItem(TOKEN_KEY, t);
      } else {
        window.sessionStorage.removeItem(TOKEN_KEY);
      }
    } catch (e) {
      // storage disabled: the token lasts until the page reloads
    }
  }

  // api fetches a path relative to the page, with the token as a header
  // (never in the URL), and returns {ok, status, body}.
  async function api(path, method) {
    const headers = { Accept: 'application/json' };
    const tok = getToken();
    if (tok) {
      headers.Authorization = 'Bearer ' + tok;
    }
    const resp = await fetch(path, {
      method: method || 'GET',
      headers,
      cache: 'no-store',
      credentials: 'omit',
      redirect: 'error',
    });
    let body = null;
    try {
      body = await resp.json();
    } catch (e) {
      body = null;
    }
    return { ok: resp.ok, status: resp.status, body };
  }

  function errText(r) {
    if (r.body && r.body.error) {
      return r.body.error;
    }
    return 'the service answered HTTP ' + r.status;
  }

  // --- formatting --------------------------------------------------------

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) {
      e.className = cls;
    }
    if (text !== undefined) {
      e.textContent = text;
    }
    return e;
  }

  function fmtBytes(n) {
    if (!(n > 0)) {
      return '0 B';
    }
    const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
    let i = 0;
    while (n >= 1024 && i < units.length - 1) {
      n /= 1024;
      i++;
    }
    return (i === 0 ? n.toFixed(0) : n.toFixed(n < 10 ? 2 : 1)) + ' ' + units[i];
  }

  function fmtRate(n) {
    return fmtBytes(n) + '/s';
  }

  function fmtCount(n) {
    return Number(n || 0).toLocaleString('en-US');
  }

  function fmtDuration(sec) {
    sec = Math.round(sec);
    if (sec < 60) {
      return sec + 's';
    }
    const d = Math.floor(sec / 86400);
    const h = Math.floor((sec % 86400) / 3600);
    const m = Math.floor((sec % 3600) / 60);
    const s = sec % 60;
    if (d > 0) {
      return d + 'd ' + h + 'h';
    }
    if (h > 0) {
      return h + 'h ' + m + 'm';
    }
    return m + 'm ' + s + 's';
  }

  function pct(done, total) {
    if (total > 0) {
      return Math.min(100, (done * 100) / total);
    }
    return done > 0 ? 100 : 0;
  }

  function fmtTime(iso) {
    const t = Date.parse(iso);
    if (!t || t <= 0) {
      return '–';
    }
    return new Date(t).toLocaleString();
  }

  // --- banners -------------------------------------------------------------

  function showMessage(kind, text) {
    const m = $('message');
    m.hidden = !text;
    m.dataset.kind = kind || '';
    m.className = 'banner' + (kind ? ' ' + kind : '');
    m.textContent = text;
  }

  function setError(text) {
    const e = $('error');
    e.hidden = !text;
    e.textContent = text;
  }

  function applyInfo(info) {
    st.info = info;
    $('workdir').textContent = info.workingDir;
    $('version').textContent = info.version ? 'version ' + info.version : '';
    const banner = $('banner');
    banner.hidden = false;
    if (info.authorized) {
      banner.className = 'banner ok';
      banner.dataset.mode = 'authorized';
      banner.textContent = 'token accepted: Retry and Clean are enabled';
    } else {
      banner.className = 'banner readonly';
      banner.dataset.mode = 'readonly';
      banner.textContent = info.readOnly;
    }
    $('token-form').hidden = !info.hasToken;
    $('token-forget').disabled = !getToken();
    if (!st.fixedRefresh && info.refreshMs > 0) {
      st.refreshMs = info.refreshMs;
    }
    for (const c of st.jobs.values()) {
      updateButtons(c);
    }
  }

  // --- jobs ------------------------------------------------------------------

  function progressRow(label, cls) {
    const row = el('div', 'progress ' + cls);
    row.append(el('span', 'label', label));
    const bar = el('div', 'bar');
    const fill = el('div', 'fill');
    bar.append(fill);
    row.append(bar);
    const text = el('span', 'text ' + cls + '-text');
    row.append(text);
    return { row, fill, text };
  }

  function newCard(name) {
    const c = { name, busy: false, loadingFailed: false, failedTasks: new Map() };
    c.root = el('article', 'job');
    c.root.dataset.job = name;

    const head = el('div', 'job-head');
    head.append(el('h3', 'name', name));
    c.state = el('span', 'state');
    head.append(c.state);
    c.reason = el('span', 'reason');
    head.append(c.reason);
    const actions = el('div', 'actions');
    c.retry = el('button', 'retry', 'Retry failed tasks');
    c.retry.type = 'button';
    c.clean = el('button', 'clean danger', 'Clean job');
    c.clean.type = 'button';
    actions.append(c.retry, c.clean);
    head.append(actions);
    c.root.append(head);

    c.objects = progressRow('objects', 'objects');
    c.bytes = progressRow('bytes', 'bytes');
    c.root.append(c.objects.row, c.bytes.row);

    const stats = el('div', 'stats');
    c.tasks = el('span', 'tasks');
    c.rate = el('span', 'rate');
    c.eta = el('span', 'eta');
    c.failedObjects = el('span', 'failed-objects');
    c.scan = el('span', 'scan');
    stats.append(c.tasks, c.rate, c.eta, c.failedObjects, c.scan);
    c.root.append(stats);

    c.running = el('details', 'running');
    c.runningSummary = el('summary');
    c.running.append(c.runningSummary);
    const rt = el('table', 'running-table');
    const rth = el('thead');
    const hr = el('tr');
    for (const h of ['task', 'worker', 'objects', 'bytes']) {
      hr.append(el('th', '', h));
    }
    rth.append(hr);
    c.runningRows = el('tbody');
    rt.append(rth, c.runningRows);
    c.running.append(rt);
    c.root.append(c.running);

    c.failed = el('details', 'failed');
    c.failedSummary = el('summary');
    c.failed.append(c.failedSummary);
    c.failedBody = el('div', 'failed-body');
    c.failed.append(c.failedBody);
    c.root.append(c.failed);

    c.failed.addEventListener('toggle', () => {
      if (c.failed.open) {
        loadFailed(c);
      }
    });
    c.retry.addEventListener('click', () => act(c, 'retry'));
    c.clean.addEventListener('click', () => {
      const ok = window.confirm('Clean job ' + name + '? Its tasks, state and folder are deleted; ' +
        'objects already copied stay at the destination.');
      if (ok) {
        act(c, 'clean');
      }
    });
    return c;
  }

  function setProgress(p, done, total, fmt, unit) {
    const v = pct(done, total);
    p.fill.style.width = v.toFixed(1) + '%';
    p.text.textContent = fmt(done) + ' / ' + fmt(total) + unit + ' (' + v.toFixed(v < 10 ? 1 : 0) + '%)';
    p.text.dataset.done = String(done);
    p.text.dataset.total = String(total);
  }

  function updateCard(c, j) {
    c.data = j;
    const state = j.state || 'Unknown';
    c.state.textContent = state;
    c.state.className = 'state s-' + state.toLowerCase();
    c.root.dataset.state = state;
    c.reason.textContent = j.error ? j.error : (j.reason ? 'reason: ' + j.reason : '');

    setProgress(c.objects, j.objects ? j.objects.done : 0, j.objects ? j.objects.total : 0, fmtCount, ' objects');
    setProgress(c.bytes, j.bytes ? j.bytes.done : 0, j.bytes ? j.bytes.total : 0, fmtBytes, '');

    c.tasks.textContent = 'tasks: ' + (j.pendingTasks || 0) + ' pending · ' + (j.dispatchedTasks || 0) +
      ' running · ' + (j.succeedTasks || 0) + ' succeeded · ' + (j.failedTasks || 0) + ' failed';
    c.rate.textContent = 'throughput: ' + (j.bytesPerSecond > 0 ? fmtRate(j.bytesPerSecond) : '–');
    c.eta.textContent = 'ETA: ' + (j.etaSeconds > 0 ? fmtDuration(j.etaSeconds) : '–');
    c.failedObjects.textContent = 'failed objects: ' + fmtCount(j.failedObjects);
    c.failedObjects.classList.toggle('bad', j.failedObjects > 0);
    c.scan.textContent = j.scanFinished ? 'scan finished' : 'scanning';
    if (j.incremental) {
      // An incremental job never ends: its round, when the round's scan
      // ended and when the next one starts.
      c.scan.textContent = 'incremental round ' + (j.round || 0) + ': ' +
        (j.roundEnded ? 'scan ended ' + fmtTime(j.roundEnded) + (j.nextRound ? ', next round ' + fmtTime(j.nextRound) : '') : 'scanning');
    }

    const running = j.runningTasks || [];
    c.runningSummary.textContent = 'Running tasks (' + running.length + ')';
    const rows = running.map((t) => {
      const tr = el('tr');
      tr.append(el('td', '', t.id), el('td', '', t.worker),
        el('td', '', fmtCount(t.files.done) + ' / ' + fmtCount(t.files.total)),
        el('td', '', fmtBytes(t.bytes.done) + ' / ' + fmtBytes(t.bytes.total)));
      return tr;
    });
    c.runningRows.replaceChildren(...rows);

    const nf = j.failedTasks || 0;
    c.failedSummary.textContent = 'Failed tasks (' + nf + ')';
    c.failed.dataset.count = String(nf);
    c.failed.classList.toggle('has-failed', nf > 0);
    if (c.failed.open) {
      loadFailed(c);
    }
    updateButtons(c);
  }

  function updateButtons(c) {
    const can = !!(st.info && st.info.authorized);
    const why = st.info ? st.info.readOnly : 'loading';
    c.retry.disabled = !can || c.busy;
    c.clean.disabled = !can || c.busy;
    c.retry.title = can ? 'queue the failed tasks of ' + c.name + ' again' : why;
    c.clean.title = can ? 'delete job ' + c.name : why;
  }

  function renderJobs(jobs) {
    const box = $('jobs');
    const seen = new Set();
    for (const j of jobs) {
      seen.add(j.name);
      let c = st.jobs.get(j.name);
      if (!c) {
        c = newCard(j.name);
        st.jobs.set(j.name, c);
      }
      updateCard(c, j);
    }
    for (const [name, c] of st.jobs) {
      if (!seen.has(name)) {
        c.root.remove();
        st.jobs.delete(name);
      }
    }
    if (jobs.length === 0) {
      box.replaceChildren(el('p', 'empty', 'no jobs yet: submit one with console.sh submit'));
      return;
    }
    syncChildren(box, jobs.map((j) => st.jobs.get(j.name).root));
  }

  // --- failed tasks ------------------------------------------------------

  async function loadFailed(c) {
    if (c.loadingFailed) {
      return;
    }
    c.loadingFailed = true;
    try {
      const r = await api('api/jobs/' + encodeURIComponent(c.name) + '/failed');
      if (!r.ok) {
        c.failedBody.replaceChildren(el('p', 'problem', errText(r)));
        c.failedTasks.clear();
        return;
      }
      renderFailed(c, r.body);
    } catch (e) {
      c.failedBody.replaceChildren(el('p', 'problem', 'cannot load the failed tasks: ' + e.message));
      c.failedTasks.clear();
    } finally {
      c.loadingFailed = false;
    }
  }

  function newFailedTask(id) {
    const t = { root: el('details', 'failed-task') };
    t.root.dataset.task = id;
    t.summary = el('summary');
    t.root.append(t.summary);
    t.root.append(el('h4', '', 'error.list'));
    t.errors = el('pre', 'errors');
    t.errorsMore = el('p', 'more');
    t.root.append(t.errors, t.errorsMore);
    t.root.append(el('h4', '', 'audit.log: lines of the failed objects'));
    t.audit = el('pre', 'audit');
    t.auditMore = el('p', 'more');
    t.problem = el('p', 'problem');
    t.root.append(t.audit, t.auditMore, t.problem);
    return t;
  }

  function renderFailed(c, list) {
    const tasks = list.tasks || [];
    const seen = new Set();
    const nodes = [];
    for (const ft of tasks) {
      seen.add(ft.id);
      let t = c.failedTasks.get(ft.id);
      if (!t) {
        t = newFailedTask(ft.id);
        c.failedTasks.set(ft.id, t);
      }
      const nErr = ft.errors.length + ft.errorsOmitted;
      t.summary.textContent = 'task ' + ft.id + ': ' + fmtCount(nErr) + ' failed of ' + fmtCount(ft.objects) +
        ' objects' + (ft.retries > 0 ? ', retried ' + ft.retries + '×' : '');
      t.errors.textContent = ft.errors.length ? ft.errors.join('\n') : '(empty)';
      t.errorsMore.textContent = ft.errorsOmitted ? fmtCount(ft.errorsOmitted) + ' more keys not shown' : '';
      t.errorsMore.hidden = !ft.errorsOmitted;
      t.audit.textContent = ft.audit.length ? ft.audit.join('\n') : '(no failure lines)';
      t.auditMore.textContent = ft.auditOmitted ? fmtCount(ft.auditOmitted) + ' earlier failure lines not shown' : '';
      t.auditMore.hidden = !ft.auditOmitted;
      t.problem.textContent = ft.problem || '';
      t.problem.hidden = !ft.problem;
      nodes.push(t.root);
    }
    for (const id of [...c.failedTasks.keys()]) {
      if (!seen.has(id)) {
        c.failedTasks.delete(id);
      }
    }
    if (nodes.length === 0) {
      nodes.push(el('p', 'empty', 'no failed tasks'));
    }
    if (list.tasksOmitted) {
      nodes.push(el('p', 'more', fmtCount(list.tasksOmitted) + ' more failed tasks not shown'));
    }
    syncChildren(c.failedBody, nodes);
  }

  // syncChildren makes nodes the children of box, in order, moving only
  // what is out of place.
  function syncChildren(box, nodes) {
    const keep = new Set(nodes);
    for (const n of [...box.children]) {
      if (!keep.has(n)) {
        n.remove();
      }
    }
    nodes.forEach((n, i) => {
      if (box.children[i] !== n) {
        box.insertBefore(n, box.children[i] || null);
      }
    });
  }

  // --- actions -----------------------------------------------------------------

  async function act(c, verb) {
    c.busy = true;
    updateButtons(c);
    showMessage('', verb + ' ' + c.name + '…');
    try {
      const r = await api('api/jobs/' + encodeURIComponent(c.name) + '/' + verb, 'POST');
      if (r.ok) {
        const n = r.body.count ? ' (' + r.body.count + (r.body.count === 1 ? ' task)' : ' tasks)') : '';
        showMessage('ok', c.name + ': ' + r.body.message + n);
      } else {
        showMessage('err', c.name + ': ' + errText(r));
      }
    } catch (e) {
      showMessage('err', 'cannot reach the service: ' + e.message);
    } finally {
      c.busy = false;
      updateButtons(c);
      refresh();
    }
  }

  // --- workers -------------------------------------------------------------------

  function renderWorkers(workers) {
    const rows = workers.map((w) => {
      const tr = el('tr', w.alive ? 'alive' : 'lost');
      tr.dataset.worker = w.name;
      const state = el('td', 'wstate', w.alive ? 'alive' : 'no heartbeat');
      tr.append(el('td', 'name', w.name), state,
        el('td', 'age', w.heartbeatAgeSeconds >= 0 ? fmtDuration(w.heartbeatAgeSeconds) + ' ago' : 'never'),
        el('td', '', String(w.runningTasks || 0)),
        el('td', '', w.bytesPerSecond > 0 ? fmtRate(w.bytesPerSecond) : '–'),
        el('td', '', w.version || ''),
        el('td', '', fmtTime(w.since)));
      return tr;
    });
    if (rows.length === 0) {
      const tr = el('tr');
      const td = el('td', 'empty', 'no worker has reported yet');
      td.colSpan = 7;
      tr.append(td);
      rows.push(tr);
    }
    $('workers').replaceChildren(...rows);
  }

  // --- throughput chart ---------------------------------------------------------

  function svg(tag, attrs, text) {
    const e = document.createElementNS(SVGNS, tag);
    for (const k of Object.keys(attrs || {})) {
      e.setAttribute(k, String(attrs[k]));
    }
    if (text !== undefined) {
      e.textContent = text;
    }
    return e;
  }

  function niceMax(v) {
    if (!(v > 0)) {
      return 1;
    }
    const p = Math.pow(10, Math.floor(Math.log10(v)));
    for (const m of [1, 2, 2.5, 5, 10]) {
      if (m * p >= v) {
        return m * p;
      }
    }
    return 10 * p;
  }

  function renderChart(tp) {
    const box = $('chart');
    const legend = $('chart-legend');
    const W = 800;
    const H = 220;
    const L = 78;
    const R = 70;
    const T = 12;
    const B = 26;
    const s = tp.samples || [];
    box.replaceChildren();
    box.dataset.samples = String(s.length);
    if (s.length < 2) {
      box.append(svg('text', { x: W / 2, y: H / 2, 'text-anchor': 'middle', class: 'note' },
        'collecting samples (one every ' + Math.round(tp.intervalSeconds || 5) + 's)…'));
      legend.textContent = '';
      return;
    }
    const t0 = Date.parse(s[0].time);
    const span = Math.max(Date.parse(s[s.length - 1].time) - t0, 1);
    const maxB = niceMax(Math.max(...s.map((x) => x.bytesPerSecond)));
    const maxO = niceMax(Math.max(...s.map((x) => x.objectsPerSecond)));
    const x = (t) => L + ((Date.parse(t) - t0) / span) * (W - L - R);
    const y = (v, m) => T + (1 - v / m) * (H - T - B);

    for (const f of [0, 0.25, 0.5, 0.75, 1]) {
      const yy = y(f * maxB, maxB);
      box.append(svg('line', { x1: L, x2: W - R, y1: yy, y2: yy, class: 'grid' }));
      box.append(svg('text', { x: L - 6, y: yy + 4, 'text-anchor': 'end', class: 'axis bytes' }, fmtRate(f * maxB)));
      box.append(svg('text', { x: W - R + 6, y: yy + 4, 'text-anchor': 'start', class: 'axis objects' },
        (f * maxO).toFixed(maxO < 10 ? 1 : 0) + ' obj/s'));
    }
    const first = new Date(t0).toLocaleTimeString();
    const last = new Date(t0 + span).toLocaleTimeString();
    box.append(svg('text', { x: L, y: H - 6, 'text-anchor': 'start', class: 'axis' }, first));
    box.append(svg('text', { x: W - R, y: H - 6, 'text-anchor': 'end', class: 'axis' }, last));

    const pb = s.map((p) => x(p.time).toFixed(1) + ',' + y(p.bytesPerSecond, maxB).toFixed(1));
    const base = y(0, maxB).toFixed(1);
    box.append(svg('path', {
      d: 'M' + x(s[0].time).toFixed(1) + ',' + base + ' L' + pb.join(' L') + ' L' +
        x(s[s.length - 1].time).toFixed(1) + ',' + base + ' Z',
      class: 'area-bytes',
    }));
    box.append(svg('polyline', { points: pb.join(' '), class: 'line-bytes' }));
    const po = s.map((p) => x(p.time).toFixed(1) + ',' + y(p.objectsPerSecond, maxO).toFixed(1));
    box.append(svg('polyline', { points: po.join(' '), class: 'line-objects' }));

    const now = s[s.length - 1];
    const peak = Math.max(...s.map((p) => p.bytesPerSecond));
    legend.replaceChildren(
      el('span', 'key bytes', 'bytes/s: ' + fmtRate(now.bytesPerSecond) + ' now, ' + fmtRate(peak) + ' peak'),
      el('span', 'key objects', 'objects/s: ' + now.objectsPerSecond.toFixed(1) + ' now'),
      el('span', 'key', 'copied so far: ' + fmtBytes(now.bytesDone) + ', ' + fmtCount(now.objectsDone) + ' objects'));
  }

  // --- refresh loop -----------------------------------------------------------------

  async function refresh() {
    const gen = ++st.gen;
    window.clearTimeout(st.timer);
    try {
      const rs = await Promise.all([api('api/info'), api('api/jobs'), api('api/workers'), api('api/throughput')]);
      if (gen !== st.gen) {
        return; // a newer refresh started meanwhile
      }
      const [info, jobs, workers, tp] = rs;
      if (info.ok) {
        applyInfo(info.body);
      }
      if (jobs.ok) {
        renderJobs(jobs.body.jobs || []);
      }
      if (workers.ok) {
        renderWorkers(workers.body.workers || []);
      }
      if (tp.ok) {
        renderChart(tp.body);
      }
      const bad = rs.find((r) => !r.ok);
      setError(bad ? errText(bad) : '');
      $('updated').textContent = new Date().toLocaleTimeString();
      document.body.dataset.refreshes = String(Number(document.body.dataset.refreshes || 0) + 1);
    } catch (e) {
      if (gen === st.gen) {
        setError('cannot reach the service (' + e.message + '); trying again');
      }
    }
    if (gen === st.gen) {
      st.timer = window.setTimeout(refresh, st.refreshMs);
    }
  }

  function start() {
    const q = parseInt(params.get('refresh') || '', 10);
    if (q >= 200) {
      st.refreshMs = q;
      st.fixedRefresh = true;
    }
    $('token-form').addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const input = $('token');
      const v = input.value.trim();
      input.value = '';
      if (!v) {
        return;
      }
      setToken(v);
      try {
        const r = await api('api/info');
        if (r.ok && !r.body.authorized) {
          setToken('');
          showMessage('err', 'the token was not accepted');
        } else if (r.ok) {
          showMessage('ok', 'token accepted');
        }
      } catch (e) {
        showMessage('err', 'cannot reach the service: ' + e.message);
      }
      refresh();
    });
    $('token-forget').addEventListener('click', () => {
      setToken('');
      showMessage('', 'token forgotten: the page is read-only');
      refresh();
    });
    refresh();
  }

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', start);
  } else {
    start();
  }
})();
