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
    tp: null, // the throughput shown
    samples: [], // the throughput samples read so far
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

  const STATE_WORDS = { Succeed: 'Succeeded', Failed: 'Failed', Abort: 'Aborted', Running: 'Running' };

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

  // stat is one labelled figure of a job card.
  function stat(box, label, cls) {
    const d = el('div', 'stat ' + cls);
    d.append(el('span', 'k', label));
    const v = el('span', 'v');
    d.append(v);
    box.append(d);
    return v;
  }

  // endpointText writes one side of a job: type://bucket/prefix, or the
  // path of a local one, and the endpoint.
  function endpointText(e) {
    if (!e) {
      return '?';
    }
    if (e.type === 'local') {
      return 'local ' + (e.prefix || '');
    }
    if (e.type === 'http') {
      return 'http list ' + (e.listFile || '') + (e.prefix ? ' (' + e.prefix + ')' : '');
    }
    let t = (e.type || '?') + '://' + (e.bucket || '') + '/' + (e.prefix || '');
    if (e.endpoint) {
      t += ' at ' + e.endpoint;
    }
    return t;
  }

  function newCard(name) {
    const c = { name, busy: false, loadingFailed: false, loadingConfig: false, failedTasks: new Map(), final: null };
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

    c.route = el('p', 'route');
    c.src = el('span', 'src');
    c.dst = el('span', 'dst');
    c.route.append(c.src, el('span', 'arrow', ' → '), c.dst);
    c.root.append(c.route);

    c.finalLine = el('p', 'final');
    c.finalLine.hidden = true;
    c.root.append(c.finalLine);

    c.body = el('details', 'job-body');
    c.bodySummary = el('summary');
    c.body.append(c.bodySummary);
    c.root.append(c.body);

    c.objects = progressRow('objects', 'objects');
    c.bytes = progressRow('bytes', 'bytes');
    c.body.append(c.objects.row, c.bytes.row);

    const stats = el('div', 'stats');
    c.started = stat(stats, 'started', 'started');
    c.elapsed = stat(stats, 'elapsed', 'elapsed');
    c.eta = stat(stats, 'ETA', 'eta');
    c.rate = stat(stats, 'copy rate', 'rate');
    c.ops = stat(stats, 'objects/s', 'ops');
    c.tasks = stat(stats, 'tasks', 'tasks');
    c.failedObjects = stat(stats, 'failed objects', 'failed-objects');
    c.scan = stat(stats, 'scan', 'scan');
    c.body.append(stats);

    const cb = el('div', 'chart-box job-chart-box');
    c.chart = svg('svg', { class: 'chart job-chart', role: 'img', 'aria-label': 'copy rate of job ' + name + ' over time' });
    c.chartLegend = el('div', 'legend');
    cb.append(c.chart, c.chartLegend);
    c.body.append(cb);

    c.running = el('details', 'running');
    c.runningSummary = el('summary');
    c.running.append(c.runningSummary);
    const rt = el('table', 'running-table stack');
    const rth = el('thead');
    const hr = el('tr');
    for (const h of ['task', 'worker', 'objects', 'bytes']) {
      hr.append(el('th', '', h));
    }
    rth.append(hr);
    c.runningRows = el('tbody');
    rt.append(rth, c.runningRows);
    c.running.append(rt);
    c.body.append(c.running);

    c.failed = el('details', 'failed');
    c.failedSummary = el('summary');
    c.failed.append(c.failedSummary);
    c.failedBody = el('div', 'failed-body');
    c.failed.append(c.failedBody);
    c.body.append(c.failed);

    c.config = el('details', 'config');
    c.config.append(el('summary', '', 'Configuration (secrets masked)'));
    c.configBody = el('div', 'config-body');
    c.config.append(c.configBody);
    c.body.append(c.config);

    c.failed.addEventListener('toggle', () => {
      if (c.failed.open) {
        loadFailed(c);
      }
    });
    c.config.addEventListener('toggle', () => {
      if (c.config.open) {
        loadConfig(c);
      }
    });
    c.body.addEventListener('toggle', () => {
      c.bodySummary.textContent = c.body.open ? 'hide details' : 'show progress, rates, tasks and configuration';
      if (c.body.open && st.tp) {
        renderJobChart(c, st.tp);
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

  // finalText sums up a job that ended.
  function finalText(j) {
    const k = j.counters || {};
    let t = (STATE_WORDS[j.state] || j.state);
    if (j.elapsedSeconds > 0) {
      t += ' after ' + fmtDuration(j.elapsedSeconds);
    }
    if (j.ended) {
      t += ' (ended ' + fmtTime(j.ended) + ')';
    }
    t += ': ' + fmtCount(k.copied) + ' copied (' + fmtBytes(k.copiedBytes) + '), ' + fmtCount(k.skipped) + ' skipped, ' +
      fmtCount(k.failed) + ' failed';
    if ((j.failedTasks || 0) > 0) {
      t += ' in ' + fmtCount(j.failedTasks) + (j.failedTasks === 1 ? ' task' : ' tasks');
    }
    if (j.reason) {
      t += '. Reason: ' + j.reason;
    }
    return t;
  }

  function updateCard(c, j) {
    c.data = j;
    const state = j.state || 'Unknown';
    const final = !!j.final;
    c.state.textContent = final ? (STATE_WORDS[state] || state) : state;
    c.state.className = 'state s-' + state.toLowerCase();
    c.root.dataset.state = state;
    c.root.dataset.final = String(final);
    c.root.classList.toggle('ended', final);
    c.reason.textContent = j.error ? j.error : (j.reason ? 'reason: ' + j.reason : '');

    if (j.route) {
      c.src.textContent = endpointText(j.route.source);
      c.dst.textContent = endpointText(j.route.destination);
      c.route.hidden = false;
    } else {
      c.route.hidden = true;
    }
    c.finalLine.hidden = !final;
    c.finalLine.className = 'final s-' + state.toLowerCase();
    c.finalLine.textContent = final ? finalText(j) : '';
    if (c.final !== final) {
      // Running jobs show their details; a job that ends folds them.
      c.final = final;
      c.body.open = !final;
      c.bodySummary.textContent = c.body.open ? 'hide details' : 'show progress, rates, tasks and configuration';
    }

    setProgress(c.objects, j.objects ? j.objects.done : 0, j.objects ? j.objects.total : 0, fmtCount, ' objects');
    setProgress(c.bytes, j.bytes ? j.bytes.done : 0, j.bytes ? j.bytes.total : 0, fmtBytes, '');

    c.started.textContent = j.started ? fmtTime(j.started) + (j.incremental ? ' (this round)' : '') : 'not yet';
    c.started.dataset.time = j.started || '';
    c.elapsed.textContent = j.elapsedSeconds > 0 ? fmtDuration(j.elapsedSeconds) + (final ? '' : ' so far') : '–';
    c.elapsed.dataset.seconds = String(j.elapsedSeconds || 0);
    let eta = '–';
    if (final) {
      eta = 'ended';
    } else if (j.etaSeconds > 0) {
      eta = fmtDuration(j.etaSeconds) + ' (about ' + new Date(Date.now() + j.etaSeconds * 1000).toLocaleTimeString() + ')';
    } else if (!j.scanFinished && !j.incremental) {
      eta = 'after the scan';
    }
    c.eta.textContent = eta;
    c.eta.dataset.seconds = String(final ? 0 : j.etaSeconds || 0);
    if (final) {
      // An ended job: its average over the time it ran.
      const k = j.counters || {};
      const sec = j.elapsedSeconds || 0;
      c.rate.textContent = sec > 0 ? fmtRate((k.copiedBytes || 0) / sec) + ' average' : '–';
      c.ops.textContent = sec > 0 ? ((j.objects ? j.objects.done : 0) / sec).toFixed(1) + ' average' : '–';
      c.rate.dataset.bps = '0';
      c.ops.dataset.ops = '0';
    } else {
      c.rate.textContent = j.rateKnown ? fmtRate(j.copyBytesPerSecond) : 'measuring…';
      c.rate.dataset.bps = String(j.copyBytesPerSecond || 0);
      c.ops.textContent = j.rateKnown ? j.objectsPerSecond.toFixed(j.objectsPerSecond < 10 ? 1 : 0) : 'measuring…';
      c.ops.dataset.ops = String(j.objectsPerSecond || 0);
    }
    c.tasks.textContent = (j.pendingTasks || 0) + ' pending · ' + (j.dispatchedTasks || 0) +
      ' running · ' + (j.succeedTasks || 0) + ' succeeded · ' + (j.failedTasks || 0) + ' failed';
    c.failedObjects.textContent = fmtCount(j.failedObjects);
    c.failedObjects.classList.toggle('bad', j.failedObjects > 0);
    c.scan.textContent = j.scanFinished ? 'finished' : 'scanning';
    if (j.incremental) {
      // An incremental job never ends: its round, when the round's scan
      // ended and when the next one starts.
      c.scan.textContent = 'incremental round ' + (j.round || 0) + ': ' +
        (j.roundEnded ? 'scan ended ' + fmtTime(j.roundEnded) + (j.nextRound ? ', next round ' + fmtTime(j.nextRound) : '') : 'scanning');
    }

    const running = j.runningTasks || [];
    c.runningSummary.textContent = 'Running tasks (' + running.length + ')';
    c.running.dataset.count = String(running.length);
    const rows = running.map((t) => {
      const tr = el('tr');
      tr.append(cell('task', t.id), cell('worker', t.worker),
        cell('objects', fmtCount(t.files.done) + ' / ' + fmtCount(t.files.total)),
        cell('bytes', fmtBytes(t.bytes.done) + ' / ' + fmtBytes(t.bytes.total)));
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

  // cell is a table cell that carries its column's name, shown next to
  // the value when the table is stacked on a narrow screen.
  function cell(label, text, cls) {
    const td = el('td', cls || '', text);
    td.dataset.label = label;
    return td;
  }

  function updateButtons(c) {
    const can = !!(st.info && st.info.authorized);
    const why = st.info ? st.info.readOnly : 'loading';
    c.retry.disabled = !can || c.busy;
    c.clean.disabled = !can || c.busy;
    c.retry.title = can ? 'queue the failed tasks of ' + c.name + ' again' : why;
    c.clean.title = can ? 'delete job ' + c.name : why;
  }

  // order lists the jobs still running first, by name, then the ended
  // ones, the last ended first.
  function order(jobs) {
    const run = jobs.filter((j) => !j.final);
    const done = jobs.filter((j) => j.final);
    done.sort((a, b) => (Date.parse(b.ended || 0) || 0) - (Date.parse(a.ended || 0) || 0) || a.name.localeCompare(b.name));
    return run.concat(done);
  }

  function renderJobs(jobs) {
    const box = $('jobs');
    const seen = new Set();
    jobs = order(jobs);
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

  // --- configuration -------------------------------------------------------

  async function loadConfig(c) {
    if (c.loadingConfig) {
      return;
    }
    c.loadingConfig = true;
    try {
      const r = await api('api/jobs/' + encodeURIComponent(c.name) + '/config');
      if (!r.ok) {
        c.configBody.replaceChildren(el('p', 'problem', errText(r)));
        return;
      }
      renderConfig(c, r.body);
    } catch (e) {
      c.configBody.replaceChildren(el('p', 'problem', 'cannot load the configuration: ' + e.message));
    } finally {
      c.loadingConfig = false;
    }
  }

  function renderConfig(c, cfg) {
    const settings = cfg.settings || [];
    const note = el('p', 'muted', 'Effective values of ' + cfg.file + ' (keys left out take their defaults); secrets are shown as ****.');
    const all = el('label', 'muted');
    const box = el('input');
    box.type = 'checkbox';
    all.append(box, document.createTextNode(' show the ' + settings.filter((s) => s.default).length + ' keys at their defaults'));
    const table = el('table', 'settings stack');
    const th = el('thead');
    const hr = el('tr');
    for (const h of ['key', 'value', 'from']) {
      hr.append(el('th', '', h));
    }
    th.append(hr);
    const tb = el('tbody');
    for (const s of settings) {
      const tr = el('tr', s.default ? 'default' : 'set');
      tr.dataset.key = s.key;
      tr.append(cell('key', s.key, 'key'), cell('value', s.value + (s.note ? ' (' + s.note + ')' : ''), 'value'), cell('from', s.source));
      tb.append(tr);
    }
    table.append(th, tb);
    table.classList.add('hide-defaults');
    box.addEventListener('change', () => table.classList.toggle('hide-defaults', !box.checked));
    const file = el('details', 'job-file');
    file.append(el('summary', '', 'the job file as kept (' + cfg.file + ')'));
    const pre = el('pre', 'job-file-text', cfg.text);
    file.append(pre);
    c.configBody.replaceChildren(note, all, table, file);
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

  // workerState: alive, stopped (its service stopped gracefully) or lost
  // (no heartbeat).
  function workerState(w) {
    if (w.alive) {
      return 'alive';
    }
    return w.stopped ? 'stopped' : 'lost';
  }

  function renderWorkers(workers) {
    const rows = workers.map((w) => {
      const state = workerState(w);
      const tr = el('tr', state);
      tr.dataset.worker = w.name;
      const age = cell('last heartbeat', w.heartbeatAgeSeconds >= 0 ? fmtDuration(w.heartbeatAgeSeconds) + ' ago' : 'never', 'age');
      age.dataset.seconds = String(w.heartbeatAgeSeconds);
      const run = cell('running tasks', String(w.runningTasks || 0), 'running');
      run.dataset.count = String(w.runningTasks || 0);
      tr.append(cell('worker', w.name, 'name'), cell('state', state === 'lost' ? 'lost (no heartbeat)' : state, 'wstate'),
        age, run,
        cell('read throughput', w.bytesPerSecond > 0 ? fmtRate(w.bytesPerSecond) : '–', 'wrate'),
        cell('version', w.version || ''),
        cell('since', fmtTime(w.since)));
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

  // --- charts ---------------------------------------------------------------------

  const PALETTE = ['#1f6feb', '#b35c00', '#1a7f37', '#8250df', '#c62828', '#0a7c86', '#9a6700', '#bf3989'];

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

  // niceMaxBytes rounds a byte rate up to a round number of its unit
  // (KiB, MiB, ...), so the axis reads 20 MiB/s rather than 19.1 MiB/s.
  function niceMaxBytes(v) {
    let unit = 1;
    while (v >= 1024 * unit && unit < Math.pow(1024, 5)) {
      unit *= 1024;
    }
    return niceMax(v / unit) * unit;
  }

  // drawChart draws lines over time into an svg element, sized to the
  // width it has on the page (so text is never stretched). series:
  // [{name, color, values: [number|null per time], right, area, dashed}];
  // left and right format the axes (right is optional). A gap longer
  // than gapMs between two samples breaks the lines.
  function drawChart(box, times, series, o) {
    const W = Math.max(Math.round(box.getBoundingClientRect().width) || 0, 240);
    const H = o.height || 200;
    const narrow = W < 500;
    const hasRight = series.some((s) => s.right);
    const L = narrow ? 66 : 80;
    const R = hasRight ? (narrow ? 58 : 66) : 12;
    const T = 10;
    const B = 22;
    box.setAttribute('viewBox', '0 0 ' + W + ' ' + H);
    box.setAttribute('height', String(H));
    box.replaceChildren();
    box.dataset.samples = String(times.length);
    box.dataset.width = String(W);
    box.dataset.series = String(series.length);
    if (times.length < 2) {
      box.append(svg('text', { x: W / 2, y: H / 2, 'text-anchor': 'middle', class: 'note' }, o.empty));
      return;
    }
    const t0 = times[0];
    const span = Math.max(times[times.length - 1] - t0, 1);
    const max = (right) => (Math.max(0, ...series.filter((s) => !!s.right === right)
      .flatMap((s) => s.values.filter((v) => v !== null && v !== undefined))));
    let maxL = o.leftBytes ? niceMaxBytes(max(false)) : niceMax(max(false));
    if (o.leftCount) {
      maxL = Math.max(4, Math.ceil(max(false) / 4) * 4); // whole ticks
    }
    const maxR = niceMax(max(true));
    const x = (t) => L + ((t - t0) / span) * (W - L - R);
    const y = (v, m) => T + (1 - v / m) * (H - T - B);
    for (const f of [0, 0.25, 0.5, 0.75, 1]) {
      if (narrow && (f === 0.25 || f === 0.75)) {
        continue;
      }
      const yy = y(f * maxL, maxL);
      box.append(svg('line', { x1: L, x2: W - R, y1: yy, y2: yy, class: 'grid' }));
      box.append(svg('text', { x: L - 5, y: yy + 4, 'text-anchor': 'end', class: 'axis left' }, o.left(f * maxL)));
      if (hasRight) {
        box.append(svg('text', { x: W - R + 5, y: yy + 4, 'text-anchor': 'start', class: 'axis right' }, o.right(f * maxR)));
      }
    }
    box.append(svg('text', { x: L, y: H - 5, 'text-anchor': 'start', class: 'axis' }, new Date(t0).toLocaleTimeString()));
    box.append(svg('text', { x: W - R, y: H - 5, 'text-anchor': 'end', class: 'axis' }, new Date(t0 + span).toLocaleTimeString()));
    const base = y(0, maxL).toFixed(1);
    for (const s of series) {
      const m = s.right ? maxR : maxL;
      // Runs of points without a gap.
      const runs = [];
      let run = [];
      times.forEach((t, i) => {
        const v = s.values[i];
        const gap = i > 0 && t - times[i - 1] > o.gapMs;
        if (v === null || v === undefined || gap) {
          if (run.length) {
            runs.push(run);
          }
          run = [];
        }
        if (v !== null && v !== undefined) {
          run.push(x(t).toFixed(1) + ',' + y(v, m).toFixed(1));
        }
      });
      if (run.length) {
        runs.push(run);
      }
      for (const r of runs) {
        if (s.area && r.length > 1) {
          box.append(svg('path', {
            d: 'M' + r[0].split(',')[0] + ',' + base + ' L' + r.join(' L') + ' L' + r[r.length - 1].split(',')[0] + ',' + base + ' Z',
            class: 'area', fill: s.color, 'fill-opacity': 0.15,
          }));
        }
        const attrs = { points: r.join(' '), class: 'line', stroke: s.color, fill: 'none', 'stroke-width': s.dashed ? 1.5 : 2 };
        if (s.dashed) {
          attrs['stroke-dasharray'] = '5 3';
        }
        attrs['data-name'] = s.name;
        box.append(svg('polyline', attrs));
      }
    }
  }

  function swatch(color, text, cls) {
    const k = el('span', 'key' + (cls ? ' ' + cls : ''));
    const sw = el('span', 'swatch');
    sw.style.background = color;
    k.append(sw, document.createTextNode(text));
    return k;
  }

  function fmtOps(v) {
    return v.toFixed(v < 10 ? 1 : 0) + ' obj/s';
  }

  function times(tp) {
    return (tp.samples || []).map((p) => Date.parse(p.time));
  }

  function gapMs(tp) {
    return (tp.intervalSeconds || 5) * 2500;
  }

  function renderChart(tp) {
    const s = tp.samples || [];
    const empty = 'collecting samples (one every ' + Math.round(tp.intervalSeconds || 5) + 's)…';
    drawChart($('chart'), times(tp), [
      { name: 'copy rate', color: PALETTE[0], values: s.map((p) => p.bytesPerSecond), area: true },
      { name: 'objects/s', color: PALETTE[1], values: s.map((p) => p.objectsPerSecond), right: true, dashed: true },
    ], { leftBytes: true, left: fmtRate, right: fmtOps, empty, gapMs: gapMs(tp), height: 220 });
    const legend = $('chart-legend');
    if (s.length < 2) {
      legend.replaceChildren();
      return;
    }
    const now = s[s.length - 1];
    const peak = Math.max(...s.map((p) => p.bytesPerSecond));
    legend.replaceChildren(
      swatch(PALETTE[0], 'copy rate: ' + fmtRate(now.bytesPerSecond) + ' now, ' + fmtRate(peak) + ' peak', 'bytes'),
      swatch(PALETTE[1], 'objects/s: ' + now.objectsPerSecond.toFixed(1) + ' now', 'objects'),
      el('span', 'key', 'copied so far: ' + fmtBytes(now.bytesDone) + ', ' + fmtCount(now.objectsDone) + ' objects'));
  }

  function renderJobChart(c, tp) {
    const s = tp.samples || [];
    const rate = (p) => (p.jobs && p.jobs[c.name]) || null;
    const b = s.map((p) => (rate(p) ? rate(p).bytesPerSecond : 0));
    const o = s.map((p) => (rate(p) ? rate(p).objectsPerSecond : 0));
    drawChart(c.chart, times(tp), [
      { name: 'copy rate', color: PALETTE[0], values: b, area: true },
      { name: 'objects/s', color: PALETTE[1], values: o, right: true, dashed: true },
    ], { leftBytes: true, left: fmtRate, right: fmtOps, empty: 'collecting samples…', gapMs: gapMs(tp), height: 140 });
    c.chart.dataset.moving = String(s.filter((p) => rate(p) && rate(p).bytesPerSecond > 0).length);
    if (s.length < 2) {
      c.chartLegend.replaceChildren();
      return;
    }
    if (c.data && c.data.final) {
      c.chartLegend.replaceChildren(
        swatch(PALETTE[0], 'copy rate: ' + fmtRate(Math.max(...b)) + ' peak', 'bytes'),
        swatch(PALETTE[1], 'objects/s: ' + Math.max(...o).toFixed(1) + ' peak', 'objects'));
      return;
    }
    c.chartLegend.replaceChildren(
      swatch(PALETTE[0], 'copy rate: ' + fmtRate(b[b.length - 1]) + ' now, ' + fmtRate(Math.max(...b)) + ' peak', 'bytes'),
      swatch(PALETTE[1], 'objects/s: ' + o[o.length - 1].toFixed(1) + ' now', 'objects'));
  }

  function renderWorkerCharts(tp) {
    const s = tp.samples || [];
    const names = [...new Set(s.flatMap((p) => Object.keys(p.workers || {})))].sort();
    const color = (i) => PALETTE[i % PALETTE.length];
    const get = (p, n) => (p.workers && p.workers[n]) || null;
    const bytes = names.map((n, i) => ({ name: n, color: color(i), values: s.map((p) => (get(p, n) ? get(p, n).bytesPerSecond : null)) }));
    const tasks = names.map((n, i) => ({ name: n, color: color(i), values: s.map((p) => (get(p, n) ? get(p, n).runningTasks : null)) }));
    const t = times(tp);
    const empty = names.length ? 'collecting samples…' : 'no worker has reported yet';
    drawChart($('worker-chart'), t, bytes, { leftBytes: true, left: fmtRate, empty, gapMs: gapMs(tp), height: 160 });
    drawChart($('worker-tasks-chart'), t, tasks, { leftCount: true, left: (v) => String(Math.round(v)), empty, gapMs: gapMs(tp), height: 160 });
    const last = s.length ? s[s.length - 1] : null;
    $('worker-legend').replaceChildren(...names.map((n, i) => {
      const w = last && get(last, n);
      return swatch(color(i), n + ': ' + (w ? fmtRate(w.bytesPerSecond) : '–'));
    }));
    $('worker-tasks-legend').replaceChildren(...names.map((n, i) => {
      const w = last && get(last, n);
      return swatch(color(i), n + ': ' + (w ? String(w.runningTasks) : '–') + ' running');
    }));
  }

  function renderCharts() {
    if (!st.tp) {
      return;
    }
    renderChart(st.tp);
    renderWorkerCharts(st.tp);
    for (const c of st.jobs.values()) {
      if (c.body.open) {
        renderJobChart(c, st.tp);
      }
    }
  }

  // --- log tail ----------------------------------------------------------------------

  function renderLog(tail) {
    const sel = $('log-name');
    if (sel.options.length === 0) {
      for (const n of tail.names || []) {
        const o = el('option', '', n + '.log');
        o.value = n;
        sel.append(o);
      }
      sel.value = tail.name;
    }
    $('log-file').textContent = tail.file + (tail.missing ? ' (not written yet)' : ', ' + fmtBytes(tail.size));
    const pre = $('log');
    const text = tail.lines.length ? tail.lines.join('\n') : (tail.missing ? '(no such log yet)' : '(empty)');
    if (pre.textContent !== text) {
      pre.textContent = text;
      if ($('log-follow').checked) {
        pre.scrollTop = pre.scrollHeight;
      }
    }
    pre.dataset.lines = String(tail.lines.length);
    pre.dataset.name = tail.name;
  }

  function logPath() {
    const name = $('log-name').value || 'import';
    return 'api/logs?name=' + encodeURIComponent(name) + '&lines=' + encodeURIComponent($('log-lines').value || '100');
  }

  // mergeSamples adds the samples taken since the page's last one (the
  // page asks only for those) and drops those older than the window.
  function mergeSamples(body, since) {
    const last = since ? Date.parse(since) : -Infinity;
    const add = (body.samples || []).filter((p) => Date.parse(p.time) > last);
    st.samples = since ? st.samples.concat(add) : add;
    if (st.samples.length) {
      const from = Date.parse(st.samples[st.samples.length - 1].time) - (body.windowSeconds || 3600) * 1000;
      const i = st.samples.findIndex((p) => Date.parse(p.time) >= from);
      st.samples = i > 0 ? st.samples.slice(i) : st.samples;
    }
    return { intervalSeconds: body.intervalSeconds, windowSeconds: body.windowSeconds, samples: st.samples };
  }

  // --- refresh loop -----------------------------------------------------------------

  async function refresh() {
    const gen = ++st.gen;
    window.clearTimeout(st.timer);
    try {
      const since = st.samples.length ? st.samples[st.samples.length - 1].time : '';
      const tpPath = 'api/throughput' + (since ? '?since=' + encodeURIComponent(since) : '');
      const rs = await Promise.all([api('api/info'), api('api/jobs'), api('api/workers'), api(tpPath), api(logPath())]);
      if (gen !== st.gen) {
        return; // a newer refresh started meanwhile
      }
      const [info, jobs, workers, tp, log] = rs;
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
        st.tp = mergeSamples(tp.body, since);
        renderCharts();
      }
      if (log.ok) {
        renderLog(log.body);
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
    $('log-name').addEventListener('change', refresh);
    $('log-lines').addEventListener('change', refresh);
    // Charts are drawn to the width they have: draw them again when it
    // changes.
    let resizeTimer = 0;
    window.addEventListener('resize', () => {
      window.clearTimeout(resizeTimer);
      resizeTimer = window.setTimeout(renderCharts, 100);
    });
    refresh();
  }

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', start);
  } else {
    start();
  }
})();
