// The log-stream page: the organization's streams with their state, last sync, lag and last
// error (refreshed every few seconds), pause/resume, test event and delete; and a form that
// creates one, with each destination's own fields, checked here first and by the server after.
'use strict';

(() => {
  const { api, el, time, organizationPath } = Portal;
  const $ = (id) => document.getElementById(id);
  const REFRESH_MS = 5000;

  // name: the API's field; group: settings or secrets; kind: input kind.
  const DESTINATIONS = {
    GenericHttps: [
      { name: 'url', group: 'settings', label: 'Endpoint URL', kind: 'url', required: true, help: 'Events are POSTed here as JSON batches.' },
      { name: 'signing_secret', group: 'secrets', label: 'Signing secret', kind: 'secret', required: true, generate: true,
        help: 'Standard Webhooks secret (whsec_…): your endpoint checks each request\u2019s signature with it. Keep a copy: it is never shown again.' },
      { name: 'Authorization', group: 'headers', label: 'Authorization header (optional)', kind: 'secret', help: 'Sent with every request, e.g. "Bearer …".' },
    ],
    Datadog: [
      { name: 'site', group: 'settings', label: 'Datadog site', kind: 'text', placeholder: 'datadoghq.com', help: 'datadoghq.com, us3.datadoghq.com, us5.datadoghq.com, datadoghq.eu, ap1.datadoghq.com or ddog-gov.com.' },
      { name: 'api_key', group: 'secrets', label: 'API key', kind: 'secret', required: true },
      { name: 'tags', group: 'settings', label: 'Tags (optional)', kind: 'text', placeholder: 'env:prod,team:security' },
    ],
    Splunk: [
      { name: 'url', group: 'settings', label: 'HTTP Event Collector URL', kind: 'url', required: true, placeholder: 'https://splunk.example.com:8088' },
      { name: 'token', group: 'secrets', label: 'HEC token', kind: 'secret', required: true },
      { name: 'index', group: 'settings', label: 'Index (optional)', kind: 'text' },
    ],
    S3: [
      { name: 'bucket', group: 'settings', label: 'Bucket', kind: 'text', required: true },
      { name: 'prefix', group: 'settings', label: 'Key prefix (optional)', kind: 'text' },
      { name: 'endpoint', group: 'settings', label: 'Endpoint (S3-compatible storage only)', kind: 'url' },
      { name: 'path_style', group: 'settings', label: 'Path-style addressing', kind: 'checkbox' },
      { name: 'access_key_id', group: 'secrets', label: 'Access key ID', kind: 'secret', required: true },
      { name: 'secret_access_key', group: 'secrets', label: 'Secret access key', kind: 'secret', required: true },
    ],
    Syslog: [
      { name: 'host', group: 'settings', label: 'Host', kind: 'text', required: true },
      { name: 'port', group: 'settings', label: 'Port', kind: 'number', placeholder: '6514' },
      { name: 'tls', group: 'settings', label: 'TLS', kind: 'checkbox', checked: true },
      { name: 'ca_certificate', group: 'settings', label: 'CA certificate, PEM (optional)', kind: 'textarea' },
    ],
  };

  function setStatus(text) {
    $('status').textContent = text;
  }

  function fieldId(spec) {
    return `s-${spec.group}-${spec.name}`;
  }

  function newSigningSecret() {
    const bytes = new Uint8Array(32);
    crypto.getRandomValues(bytes);
    return `whsec_${btoa(String.fromCharCode(...bytes))}`;
  }

  function renderFields() {
    const specs = DESTINATIONS[$('s-type').value];
    const container = $('s-fields');
    container.replaceChildren(
      ...specs.map((spec) => {
        const id = fieldId(spec);
        const helpId = `${id}-help`;
        const errorId = `${id}-error`;
        const described = [spec.help ? helpId : null, errorId].filter(Boolean).join(' ');
        let input;
        if (spec.kind === 'textarea') {
          input = el('textarea', { id, rows: 4, 'aria-describedby': described });
        } else if (spec.kind === 'checkbox') {
          input = el('input', { id, type: 'checkbox', checked: spec.checked, 'aria-describedby': described });
        } else {
          input = el('input', {
            id,
            type: spec.kind === 'secret' ? 'password' : spec.kind === 'number' ? 'number' : spec.kind === 'url' ? 'url' : 'text',
            autocomplete: 'off',
            placeholder: spec.placeholder,
            required: spec.required,
            'aria-required': spec.required ? 'true' : null,
            'aria-describedby': described,
          });
        }
        const parts = [
          spec.kind === 'checkbox'
            ? el('label', { class: 'check', for: id }, input, spec.label)
            : el('label', { for: id }, spec.label, spec.required ? ' (required)' : ''),
        ];
        if (spec.kind !== 'checkbox') parts.push(input);
        if (spec.generate) {
          parts.push(el('button', {
            type: 'button',
            onclick: () => {
              input.value = newSigningSecret();
              input.type = 'text';
            },
          }, 'Generate a secret'));
        }
        if (spec.help) parts.push(el('span', { id: helpId, class: 'hint' }, spec.help));
        parts.push(el('span', { id: errorId, class: 'field-error', 'data-field': `${spec.group === 'headers' ? 'secrets.headers' : spec.group}.${spec.name}` }));
        return el('div', { class: 'field' }, parts);
      }),
    );
  }

  // The request body, and the problems found before asking the server.
  function readForm() {
    const type = $('s-type').value;
    const body = { type, settings: {}, secrets: {}, start: $('s-start').value };
    const problems = [];
    for (const spec of DESTINATIONS[type]) {
      const input = $(fieldId(spec));
      let value;
      if (spec.kind === 'checkbox') value = input.checked;
      else value = input.value.trim();
      if (spec.kind !== 'checkbox' && value === '') {
        if (spec.required) problems.push([`${spec.group}.${spec.name}`, `${spec.label} is required.`]);
        continue;
      }
      if (spec.kind === 'url' && !/^https?:\/\/[^\s/]+/i.test(value)) {
        problems.push([`${spec.group}.${spec.name}`, `${spec.label} must be a URL starting with https://.`]);
        continue;
      }
      if (spec.kind === 'number') value = Number(value);
      if (spec.group === 'headers') {
        body.secrets.headers = { ...(body.secrets.headers || {}), [spec.name]: value };
      } else {
        body[spec.group][spec.name] = value;
      }
    }
    return { body, problems };
  }

  function showProblems(problems) {
    for (const node of document.querySelectorAll('.field-error')) node.textContent = '';
    const general = [];
    for (const [field, message] of problems) {
      const target = Array.from(document.querySelectorAll('.field-error')).find((n) => n.dataset.field === field);
      if (target) target.textContent = message;
      else general.push(message);
    }
    $('form-errors').textContent = problems.length
      ? `Please correct ${problems.length === 1 ? 'one field' : `${problems.length} fields`}. ${general.join(' ')}`
      : '';
    const first = problems.length && Array.from(document.querySelectorAll('.field-error')).find((n) => n.textContent);
    if (first) {
      const input = $(first.id.replace(/-error$/, ''));
      if (input) input.focus();
    }
  }

  async function create(event) {
    event.preventDefault();
    const { body, problems } = readForm();
    showProblems(problems);
    if (problems.length) return;
    try {
      const stream = await api(organizationPath('/log_streams'), { method: 'POST', body });
      $('new-stream').reset();
      renderFields();
      setStatus(`Stream created (${stream.type}). Send a test event to check the receiver.`);
      await refresh({ force: true });
      const card = document.querySelector(`[data-stream="${CSS.escape(stream.id)}"] button.test`);
      if (card) card.focus();
      showSuccess();
    } catch (error) {
      const fieldErrors = error.data && Array.isArray(error.data.errors) ? error.data.errors.map((e) => [e.field, e.message]) : [];
      if (fieldErrors.length) showProblems(fieldErrors);
      else $('form-errors').textContent = `The stream could not be created: ${error.message}`;
    }
  }

  function showSuccess() {
    const session = Portal.session();
    if (session.success_url && /^https?:\/\//i.test(session.success_url)) {
      $('success-link').href = session.success_url;
      $('success').hidden = false;
    }
  }

  function destinationOf(stream) {
    const s = stream.settings || {};
    return String(s.url || s.endpoint || s.bucket || s.host || s.site || '');
  }

  function streamCard(stream) {
    const path = organizationPath(`/log_streams/${encodeURIComponent(stream.id)}`);
    const result = el('p', { class: 'test-result', role: 'status', 'aria-live': 'polite' });
    const testButton = el('button', {
      type: 'button',
      class: 'test',
      onclick: async () => {
        result.textContent = 'Sending a test event…';
        try {
          const answer = await api(`${path}/test`, { method: 'POST' });
          const status = answer.status ? `HTTP ${answer.status}` : 'no HTTP status';
          result.textContent = `${answer.delivered ? 'Delivered' : 'Not delivered'} (${status}): ${answer.response || 'no answer body'}`;
          result.dataset.delivered = String(answer.delivered);
        } catch (error) {
          result.textContent = `The test could not be sent: ${error.message}`;
        }
      },
    }, 'Send a test event');
    const pauseButton = el('button', {
      type: 'button',
      onclick: async () => {
        try {
          await api(path, { method: 'PATCH', body: { paused: !stream.paused } });
          await refresh({ focus: [stream.id, 'pause'] });
        } catch (error) {
          result.textContent = error.message;
        }
      },
    }, stream.paused ? 'Resume' : 'Pause');
    pauseButton.dataset.action = 'pause';
    const deleteButton = el('button', { type: 'button', class: 'danger' }, 'Delete');
    deleteButton.addEventListener('click', async () => {
      if (deleteButton.dataset.confirm !== 'yes') {
        deleteButton.dataset.confirm = 'yes';
        deleteButton.textContent = 'Confirm delete';
        return;
      }
      try {
        await api(path, { method: 'DELETE' });
        await refresh({ force: true });
      } catch (error) {
        result.textContent = error.message;
      }
    });
    const lastError = stream.last_error;
    const details = el(
      'dl',
      { class: 'fields' },
      el('dt', {}, 'Destination'), el('dd', {}, destinationOf(stream)),
      el('dt', {}, 'Last synced'), el('dd', {}, stream.last_synced_at ? time(stream.last_synced_at) : 'not yet'),
      el('dt', {}, 'Lag'), el('dd', {}, `${stream.lag.events} events, ${Math.round(stream.lag.seconds)} s`),
      el('dt', {}, 'Delivered'), el('dd', {}, `${stream.counters.delivered_events} events`),
      el('dt', {}, 'Last error'),
      el('dd', {}, lastError ? [String(lastError.message), lastError.status ? ` (HTTP ${lastError.status})` : '', lastError.at ? [' at ', time(lastError.at)] : ''] : 'none'),
    );
    return el(
      'article',
      { class: 'stream', 'data-stream': stream.id, 'aria-label': `${stream.type} stream` },
      el('h3', {}, `${stream.type} `, el('span', { class: `badge ${stream.state}` }, stream.state)),
      details,
      el('div', { class: 'buttons' }, testButton, pauseButton, deleteButton),
      result,
    );
  }

  // Redraws the cards. The timer's redraws wait while a card holds the keyboard focus, so
  // that a keyboard user is not thrown out of it; a redraw after an action puts the focus
  // back on the action's button.
  async function refresh(options = {}) {
    try {
      const result = await api(organizationPath('/log_streams'), { background: !options.force && !options.focus });
      const streams = result.data || [];
      const container = $('streams');
      const focused = document.activeElement && document.activeElement.closest('[data-stream]');
      if (focused && container.contains(focused) && !options.force && !options.focus) return;
      const results = new Map(Array.from(container.querySelectorAll('[data-stream]')).map((c) => [c.dataset.stream, c.querySelector('.test-result')]));
      container.replaceChildren(...streams.map((stream) => {
        const card = streamCard(stream);
        const old = results.get(stream.id);
        if (old && old.textContent) card.querySelector('.test-result').replaceWith(old);
        return card;
      }));
      if (streams.length === 0) container.replaceChildren(el('p', {}, 'No streams yet.'));
      if (options.focus) {
        const [id, action] = options.focus;
        const button = container.querySelector(`[data-stream="${CSS.escape(id)}"] [data-action="${action}"]`);
        if (button) button.focus();
      }
    } catch (error) {
      setStatus(`Could not load the streams: ${error.message}`);
    }
  }

  async function main() {
    await Portal.start();
    $('s-type').addEventListener('change', renderFields);
    $('new-stream').addEventListener('submit', create);
    renderFields();
    await refresh();
    setInterval(() => refresh(), REFRESH_MS);
  }

  main().catch((error) => setStatus(`The page could not start: ${error.message}`));
})();
