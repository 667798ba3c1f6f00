// The audit-log viewer: filters and search, cursor pages (newest first), live tail, event
// detail with the browser-side proof check, and CSV export with progress.
'use strict';

(() => {
  const { api, el, time, list, organizationPath } = Portal;
  const PAGE_SIZE = 50;
  const TAIL_EVERY_MS = 3000;
  const MAX_ROWS = 500;
  const $ = (id) => document.getElementById(id);

  let filters = {};
  let page = { before: null, after: null, first: true };
  let lastSequence = -1;
  let pendingNew = 0;
  let openEventId = null;

  function readFilters() {
    const form = $('filters');
    const value = (name) => form.elements[name].value.trim();
    const instant = (name) => {
      const text = value(name);
      return text ? new Date(text).toISOString() : '';
    };
    return {
      search: value('search'),
      range_start: instant('range_start'),
      range_end: instant('range_end'),
      actions: list(value('actions')),
      actor_names: list(value('actor_names')),
      actor_ids: list(value('actor_ids')),
      targets: list(value('targets')),
    };
  }

  function filtered() {
    return Object.values(filters).some((v) => (Array.isArray(v) ? v.length > 0 : Boolean(v)));
  }

  function query(extra) {
    const params = new URLSearchParams();
    for (const [name, value] of Object.entries(filters)) {
      if (Array.isArray(value)) value.forEach((v) => params.append(name, v));
      else if (value) params.set(name, value);
    }
    for (const [name, value] of Object.entries(extra)) if (value !== null && value !== undefined) params.set(name, value);
    return params.toString();
  }

  function describe(entity) {
    if (!entity || typeof entity !== 'object') return el('span');
    return el('span', {}, String(entity.name || entity.id || ''), el('span', { class: 'secondary' }, `${entity.type || ''}${entity.name ? ` · ${entity.id}` : ''}`));
  }

  function row(event, fresh) {
    const targets = Array.isArray(event.targets) ? event.targets : [];
    const open = el('button', { type: 'button', class: 'open', onclick: () => openEvent(event.id) }, String(event.action));
    return el(
      'tr',
      { class: fresh ? 'new' : null },
      el('td', { 'data-label': 'Time' }, time(event.occurred_at)),
      el('td', { 'data-label': 'Action' }, open),
      el('td', { 'data-label': 'Actor' }, describe(event.actor)),
      el('td', { 'data-label': 'Targets' }, targets.map((t) => el('span', { class: 'target' }, describe(t)))),
      el('td', { 'data-label': 'Location' }, String((event.context && event.context.location) || '')),
    );
  }

  function setStatus(text) {
    $('status').textContent = text;
  }

  async function load(cursor) {
    setStatus('Loading…');
    try {
      const result = await api(`${organizationPath('/events')}?${query({ limit: PAGE_SIZE, ...cursor })}`);
      const rows = $('rows');
      rows.replaceChildren(...result.data.map((e) => row(e, false)));
      const meta = result.list_metadata;
      page = { before: meta.before, after: meta.after, first: !cursor.before && !cursor.after };
      if (cursor.before && !meta.before) page.first = true;
      $('older').disabled = !meta.after;
      $('newer').disabled = page.first || (!meta.before && !filters.search);
      let text = result.data.length === 0 ? 'No events match.' : `${result.data.length} events shown, newest first.`;
      if (filters.search) {
        const back = meta.searched_back_to ? ` back to ${new Date(meta.searched_back_to).toLocaleString()}` : '';
        text += ` Searched ${meta.scanned} events${back}${meta.after ? '; choose Older to search further.' : '.'}`;
      }
      setStatus(text);
      pendingNew = 0;
      updateNewButton();
    } catch (error) {
      setStatus(`Could not load events: ${error.message}`);
    }
  }

  function updateNewButton() {
    const button = $('show-new');
    button.hidden = pendingNew === 0;
    button.textContent = `Show ${pendingNew} new event${pendingNew === 1 ? '' : 's'}`;
  }

  async function tail() {
    if (!$('live').checked || document.hidden) return;
    try {
      const result = await api(`${organizationPath('/events')}?after_sequence=${lastSequence}&limit=100`, { background: true });
      lastSequence = result.list_metadata.last_sequence;
      if (result.data.length === 0) return;
      if (page.first && !filtered()) {
        const rows = $('rows');
        for (const event of result.data) rows.prepend(row(event, true));
        while (rows.children.length > MAX_ROWS) rows.lastElementChild.remove();
        setStatus(`${result.data.length} new event${result.data.length === 1 ? '' : 's'} arrived.`);
      } else {
        pendingNew += result.data.length;
        updateNewButton();
      }
    } catch (error) {
      setStatus(`Live updates paused: ${error.message}`);
    }
  }

  function field(name, value) {
    return [el('dt', {}, name), el('dd', {}, value)];
  }

  async function openEvent(id) {
    openEventId = id;
    const dialog = $('detail');
    $('detail-fields').replaceChildren();
    $('detail-json').textContent = 'Loading…';
    $('proof-result').textContent = '';
    $('proof-result').className = 'proof-result';
    delete $('proof-result').dataset.status;
    $('proof-steps').replaceChildren();
    if (!dialog.open) dialog.showModal();
    let event;
    try {
      event = await api(organizationPath(`/events/${encodeURIComponent(id)}`));
    } catch (error) {
      $('detail-json').textContent = `Could not load the event: ${error.message}`;
      return;
    }
    const targets = Array.isArray(event.targets) ? event.targets : [];
    const context = event.context || {};
    $('detail-title').textContent = String(event.action);
    $('detail-fields').replaceChildren(
      ...field('Event ID', String(event.id)),
      ...field('Occurred', [time(event.occurred_at), el('span', { class: 'secondary' }, `${event.occurred_at} UTC`)]),
      ...field('Received', time(event.received_at)),
      ...field('Sequence', String(event.sequence)),
      ...field('Actor', describe(event.actor)),
      ...field('Targets', targets.length ? targets.map((t) => el('div', {}, describe(t))) : 'none'),
      ...field('Location', String(context.location || '')),
      ...field('User agent', String(context.user_agent || '—')),
      ...field('Schema version', String(event.version)),
    );
    $('detail-json').textContent = JSON.stringify(event, null, 2);
    await showProof(event);
  }

  async function showProof(event) {
    const result = $('proof-result');
    result.textContent = 'Checking…';
    const outcome = await Proof.check(event, organizationPath(`/events/${encodeURIComponent(event.id)}/inclusion_proof`));
    if (openEventId !== event.id) return;
    result.textContent = outcome.message;
    result.className = `proof-result ${outcome.status}`;
    result.dataset.status = outcome.status;
    $('proof-steps').replaceChildren(...outcome.steps.map((s) => el('li', {}, s)));
    if (outcome.status === 'pending') {
      setTimeout(() => {
        if ($('detail').open && openEventId === event.id) showProof(event);
      }, 3000);
    }
  }

  async function startExport() {
    const panel = $('export-panel');
    const progress = $('export-progress');
    const status = $('export-status');
    const download = $('export-download');
    panel.hidden = false;
    download.hidden = true;
    progress.removeAttribute('value');
    const body = {
      range_start: filters.range_start || '1970-01-01T00:00:00.000Z',
      range_end: filters.range_end || new Date(Date.now() + 60000).toISOString(),
      actions: filters.actions,
      actor_names: filters.actor_names,
      actor_ids: filters.actor_ids,
      targets: filters.targets,
    };
    const note = filters.search ? ' (the search text is not applied to exports; the other filters are)' : '';
    status.textContent = `Starting the export${note}…`;
    let exported;
    try {
      exported = await api(organizationPath('/exports'), { method: 'POST', body });
    } catch (error) {
      status.textContent = `The export could not start: ${error.message}`;
      return;
    }
    const started = Date.now();
    for (;;) {
      await new Promise((resolve) => setTimeout(resolve, 700));
      let current;
      try {
        current = await api(organizationPath(`/exports/${encodeURIComponent(exported.id)}`));
      } catch (error) {
        status.textContent = `Lost track of the export: ${error.message}`;
        return;
      }
      const seconds = Math.round((Date.now() - started) / 1000);
      if (current.state === 'pending') {
        status.textContent = `Writing the CSV… ${current.rows || 0} events so far (${seconds} s)${note}.`;
        continue;
      }
      if (current.state === 'ready' && current.url) {
        progress.value = 100;
        status.textContent = `Ready: ${current.rows} events, ${current.bytes} bytes${note}.`;
        download.href = current.url;
        download.hidden = false;
        download.focus();
        return;
      }
      progress.value = 0;
      status.textContent = `The export ended in state "${current.state}".`;
      return;
    }
  }

  async function main() {
    // On a phone the filters would fill the first screen: they start folded there.
    if (window.matchMedia('(max-width: 640px)').matches) $('filter-panel').open = false;
    const session = await Portal.start();
    lastSequence = session.last_sequence;
    $('filters').addEventListener('submit', (e) => {
      e.preventDefault();
      filters = readFilters();
      load({});
    });
    $('clear-filters').addEventListener('click', () => {
      $('filters').reset();
      filters = {};
      load({});
    });
    $('older').addEventListener('click', () => load({ after: page.after }));
    $('newer').addEventListener('click', () => load(page.before ? { before: page.before } : {}));
    $('show-new').addEventListener('click', () => load({}));
    $('export').addEventListener('click', startExport);
    $('detail-close').addEventListener('click', () => $('detail').close());
    $('detail').addEventListener('close', () => {
      openEventId = null;
    });
    await load({});
    setInterval(tail, TAIL_EVERY_MS);
  }

  main().catch((error) => setStatus(`The viewer could not start: ${error.message}`));
})();
