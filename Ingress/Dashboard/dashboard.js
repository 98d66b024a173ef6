// The Pipeline dashboard: reads /api/admin/* with the admin key and refreshes every few seconds.
// Dead letters are polled as counts only (no message is read); a queue's letters are read when the operator opens
// it, and read again only when its count changes.
// Data is always written with textContent: dedup keys and exception messages come from outside.
'use strict';

const STORAGE_KEY = 'pipeline.adminKey';
const REFRESH_MS = 5000;

const byId = (id) => document.getElementById(id);

class ApiError extends Error {
  constructor(status, body) {
    super(body?.message ?? `HTTP ${status}`);
    this.status = status;
    this.code = body?.error ?? '';
  }
}

let session = 0; // bumped at every sign-in and sign-out, so a refresh loop of an earlier one stops itself
let timer = 0;
let replaying = false;
let queue = Promise.resolve();
let openQueue = null; // the dead-letter queue whose letters the operator opened
let detail = null; // its grouped detail, as last read, with the ready count it was read at

// Refreshes and replays run one at a time: listing dead letters holds them for a moment while they are read, and a
// replay running at that moment would not see them.
function serialized(task) {
  const run = queue.then(task);
  queue = run.catch(() => {});
  return run;
}

async function api(path, init = {}) {
  const headers = { Accept: 'application/json', Authorization: `Bearer ${sessionStorage.getItem(STORAGE_KEY) ?? ''}` };
  if (init.body) headers['Content-Type'] = 'application/json';
  let response;
  try {
    response = await fetch(path, { ...init, headers, cache: 'no-store' });
  } catch {
    throw new ApiError(0, { error: 'unreachable', message: 'Ingress is not answering.' });
  }
  const body = await response.json().catch(() => null);
  if (!response.ok) throw new ApiError(response.status, body);
  return body;
}

function describe(error) {
  if (!(error instanceof ApiError)) return `Unexpected error: ${error.message}`;
  switch (error.code) {
    case 'broker_unavailable': return `Broker unavailable: ${error.message}`;
    case 'not_available':
    case 'unreachable': return error.message;
    default: return `${error.status}: ${error.message}`;
  }
}

function setBanner(text) {
  const banner = byId('banner');
  banner.textContent = text;
  banner.hidden = !text;
}

function showLogin(message) {
  session++;
  openQueue = null;
  detail = null;
  clearTimeout(timer);
  sessionStorage.removeItem(STORAGE_KEY);
  byId('board').hidden = true;
  byId('forget').hidden = true;
  byId('updated').textContent = '';
  byId('login').hidden = false;
  setBanner(message);
  byId('key').value = '';
  byId('key').focus();
}

function start() {
  const mine = ++session;
  byId('login').hidden = true;
  byId('updated').textContent = 'Loading…';
  const loop = async () => {
    await serialized(() => refresh(mine));
    if (mine === session) timer = setTimeout(loop, REFRESH_MS);
  };
  loop();
}

async function refresh(mine) {
  if (mine !== session) return;
  const [stats, receipts, outbox, counts, deliveries] = await Promise.allSettled([
    api('api/admin/stats?minutes=60'),
    api('api/admin/receipts?limit=50'),
    api('api/admin/outbox'),
    api('api/admin/dead-letters/counts'),
    // Answered where the Deliveries service shares this origin (Standalone, or behind one proxy); 404 elsewhere.
    api('api/webhooks/stats?hours=24'),
  ]);
  if (mine !== session) return;
  const deadLetters = counts.status === 'fulfilled' ? await settle(() => deadLetterView(counts.value)) : counts;
  if (mine !== session) return;

  const errors = [stats, receipts, outbox, deadLetters, deliveries].filter((r) => r.status === 'rejected').map((r) => r.reason);
  if (errors.some((e) => e.status === 401)) return showLogin('The admin key was refused. Check it and enter it again.');
  if (errors.some((e) => e.code === 'admin_disabled')) return showLogin('The admin API is disabled on this Ingress: set ADMIN_API_KEY.');
  setBanner(errors.length === 5 && errors.every((e) => e.code === 'unreachable') ? 'Ingress is not answering; retrying.' : '');

  byId('board').hidden = false;
  byId('forget').hidden = false;
  render('traffic', stats, renderTraffic);
  render('receipts', receipts, renderReceipts);
  render('outbox', outbox, renderOutbox);
  render('dead-letters', deadLetters, renderDeadLetters);
  render('deliveries', deliveries.status === 'rejected' && deliveries.reason.status === 404
    ? { status: 'fulfilled', value: null } : deliveries, renderDeliveries);
  byId('updated').textContent = `Updated ${new Date().toLocaleTimeString()}, every ${REFRESH_MS / 1000} s`;
}

async function settle(task) {
  try {
    return { status: 'fulfilled', value: await task() };
  } catch (reason) {
    return { status: 'rejected', reason };
  }
}

// The counts, and the open queue's letters: read when it was opened, and again only when its count has changed.
async function deadLetterView(queues) {
  const current = queues.find((q) => q.queue === openQueue && q.count > 0);
  if (!current) {
    openQueue = null;
    detail = null;
  } else if (!detail || detail.queue !== current.queue || detail.readyAt !== current.ready) {
    const [read] = await api(`api/admin/dead-letters?queue=${encodeURIComponent(current.queue)}`);
    detail = read ? { ...read, readyAt: current.ready } : null;
  }
  return { queues, detail };
}

function render(sectionId, result, draw) {
  const section = byId(sectionId);
  const error = section.querySelector('.error');
  const failed = result.status === 'rejected';
  section.classList.toggle('failed', failed);
  error.hidden = !failed;
  error.textContent = failed ? describe(result.reason) : '';
  draw(failed ? null : result.value);
}

function cell(content, className) {
  const td = document.createElement('td');
  if (content instanceof Node) td.append(content);
  else td.textContent = content ?? '';
  if (className) td.className = className;
  return td;
}

function row(cells, data = {}) {
  const tr = document.createElement('tr');
  tr.append(...cells);
  Object.assign(tr.dataset, data);
  return tr;
}

function fill(tbody, rows, empty) {
  if (rows.length > 0) return tbody.replaceChildren(...rows);
  const td = cell(empty, 'empty');
  td.colSpan = tbody.parentElement.querySelectorAll('thead th').length;
  tbody.replaceChildren(row([td]));
}

function time(iso) {
  if (!iso) return cell('–');
  const td = cell(new Date(iso).toLocaleString());
  td.title = iso;
  return td;
}

function age(seconds) {
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}

function ms(value, bound) {
  if (value == null) return '–';
  const text = value >= 1000 ? `${(value / 1000).toFixed(1)} s` : `${value} ms`;
  return bound ? `≤ ${text}` : text;
}

function renderTraffic(stats) {
  const rows = (stats?.providers ?? []).map((p) => {
    const byStatus = Object.entries(p.rejectedByStatus).map(([status, n]) => `${status}×${n}`).join(', ');
    return row([
      cell(p.provider),
      cell(String(p.accepted), 'num'),
      cell(byStatus ? `${p.rejected} (${byStatus})` : String(p.rejected), 'num'),
      cell(ms(p.latencyMs?.p50, true), 'num'),
      cell(ms(p.latencyMs?.p95, true), 'num'),
      cell(ms(p.latencyMs?.max, false), 'num'),
    ], { provider: p.provider });
  });
  fill(byId('traffic').querySelector('tbody'), rows, stats ? 'No webhooks in the last hour.' : '');
}

function renderReceipts(receipts) {
  const rows = (receipts ?? []).map((r) => {
    const status = document.createElement('span');
    status.className = `status ${r.status}`;
    status.textContent = r.status;
    return row([time(r.receivedAt), cell(r.provider), cell(r.dedupKey, 'mono'), cell(status), cell(r.id, 'mono')],
      { receiptId: r.id });
  });
  fill(byId('receipts').querySelector('tbody'), rows, receipts ? 'No receipts yet.' : '');
}

function renderOutbox(outbox) {
  byId('outbox-pending').textContent = outbox ? String(outbox.pending) : '–';
  byId('outbox-oldest').textContent = outbox ? (outbox.pending > 0 ? age(outbox.oldestPendingAgeSeconds) : 'none') : '–';
}

function renderDeliveries(stats) {
  const rows = (stats?.endpoints ?? []).map((e) => {
    const ledger = document.createElement('span');
    ledger.className = `status ${e.ledger.balanced ? 'published' : 'failed'}`;
    ledger.textContent = e.ledger.balanced ? `balanced (${e.ledger.matched})` : `off: ${e.ledger.matched} matched`;
    const name = cell(e.name || e.url);
    name.title = e.url;
    return row([
      name,
      cell(e.is_active ? 'enabled' : 'disabled'),
      cell(String(e.successful_deliveries), 'num'),
      cell(String(e.failed_deliveries), 'num'),
      cell(String(e.pending_deliveries), 'num'),
      cell(String(e.skipped_deliveries), 'num'),
      cell(e.total_deliveries > 0 ? `${e.success_rate} %` : '–', 'num'),
      cell(e.p95_response_time == null ? '–' : ms(Math.round(e.p95_response_time * 1000), false), 'num'),
      cell(ledger),
    ], { endpointId: e.id });
  });
  fill(byId('deliveries').querySelector('tbody'), rows,
    stats ? 'No endpoints registered (POST /api/endpoints, or pipeline-ops endpoints add).' : 'No Deliveries service on this host.');
}

function replayButton(label, data) {
  const button = document.createElement('button');
  button.type = 'button';
  button.textContent = label;
  button.disabled = replaying;
  Object.assign(button.dataset, data);
  return button;
}

function openButton(queueName) {
  const button = document.createElement('button');
  button.type = 'button';
  button.textContent = queueName === openQueue ? 'Hide letters' : 'Show letters';
  button.disabled = replaying;
  button.dataset.openQueue = queueName;
  return button;
}

function renderDeadLetters(view) {
  const present = (view?.queues ?? []).filter((q) => q.count > 0);
  const shown = view?.detail ?? null;

  const queueRows = present.map((q) => {
    const actions = document.createElement('span');
    actions.append(openButton(q.queue), replayButton('Replay all', { replayQueue: q.queue }));
    return row([
      cell(q.queue, 'mono'),
      cell(String(q.count), 'num'),
      shown?.queue === q.queue ? time(shown.oldest) : cell('–'),
      cell(actions),
    ], { queue: q.queue });
  });
  fill(byId('dead-letter-queues').querySelector('tbody'), queueRows, view ? 'No dead letters.' : '');

  const groupRows = (shown?.groups ?? [])
    .sort((a, b) => b.count - a.count)
    .map((g) => row([cell(String(g.count), 'num'), cell(g.exceptionType ?? '', 'mono'), cell(g.messageType ?? '', 'mono')]));
  const groups = byId('dead-letter-groups');
  groups.hidden = !shown;
  fill(groups.querySelector('tbody'), groupRows, '');

  const letters = (shown?.recent ?? []).slice()
    .sort((a, b) => (b.faultedAt ?? '').localeCompare(a.faultedAt ?? ''));
  const letterRows = letters.map((l) => {
    const exception = cell(l.exceptionType ?? '');
    exception.title = l.exceptionMessage ?? '';
    return row([
      time(l.faultedAt),
      cell(l.queue, 'mono'),
      cell(l.messageType ?? '', 'mono'),
      exception,
      cell(l.messageId ?? '', 'mono'),
      cell(l.messageId ? replayButton('Replay', { replayQueue: l.queue, replayMessage: l.messageId }) : ''),
    ], { messageId: l.messageId ?? '' });
  });
  const empty = !view ? '' : present.length === 0 ? 'Nothing to replay.' : 'Choose “Show letters” on a queue to read its letters.';
  fill(byId('dead-letter-messages').querySelector('tbody'), letterRows, empty);
}

async function toggle(button) {
  const name = button.dataset.openQueue;
  openQueue = openQueue === name ? null : name;
  detail = null;
  const mine = session;
  await serialized(() => refresh(mine));
}

function setReplaying(value) {
  replaying = value;
  for (const button of byId('dead-letters').querySelectorAll('button')) button.disabled = value;
}

async function replay(button) {
  const { replayQueue: queueName, replayMessage: messageId } = button.dataset;
  const what = messageId ? `message ${messageId}` : `dead letters of ${queueName}`;
  const note = byId('replay-result');
  note.hidden = false;
  note.className = '';
  note.textContent = `Replaying ${what}…`;
  setReplaying(true);
  const mine = session;
  try {
    const report = await serialized(() => api('api/admin/dead-letters/replay', {
      method: 'POST',
      body: JSON.stringify(messageId ? { queue: queueName, messageId } : { queue: queueName }),
    }));
    const failures = report.failed > 0 ? ` ${report.failed} failed: ${report.errors.join('; ')}` : '';
    note.textContent = `Replayed ${report.replayed} of ${report.matched} (${what}) at ${new Date().toLocaleTimeString()}.${failures}`;
    note.className = report.failed > 0 ? 'failed' : 'done';
  } catch (error) {
    if (error.status === 401) return showLogin('The admin key was refused. Check it and enter it again.');
    note.textContent = `Replay failed: ${describe(error)}`;
    note.className = 'failed';
  } finally {
    setReplaying(false);
  }
  // Show the outcome now rather than at the next tick, with the open queue's letters read again.
  detail = null;
  await serialized(() => refresh(mine));
}

byId('login').addEventListener('submit', (event) => {
  event.preventDefault();
  const key = byId('key').value.trim();
  if (!key) return;
  sessionStorage.setItem(STORAGE_KEY, key);
  setBanner('');
  start();
});
byId('forget').addEventListener('click', () => showLogin(''));
byId('dead-letters').addEventListener('click', (event) => {
  const open = event.target.closest('button[data-open-queue]');
  if (open && !open.disabled) return toggle(open);
  const button = event.target.closest('button[data-replay-queue]');
  if (button && !button.disabled) replay(button);
});

if (sessionStorage.getItem(STORAGE_KEY)) start();
else showLogin('');
