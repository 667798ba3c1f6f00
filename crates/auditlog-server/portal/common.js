// Shared by the portal's pages: the session, JSON calls with the CSRF token, and building DOM
// from data. Data only ever enters the page as text (textContent, text nodes): event fields
// are written by whoever can send events, so nothing from the API is parsed as markup or used
// as a URL.
'use strict';

const Portal = (() => {
  let session = null;

  function describeError(data, status) {
    if (data && Array.isArray(data.errors) && data.errors.length) {
      return data.errors.map((e) => `${e.field}: ${e.message}`).join('; ');
    }
    return (data && data.message) || `The server answered ${status}.`;
  }

  async function api(path, options = {}) {
    const method = options.method || 'GET';
    const headers = { Accept: 'application/json' };
    let body;
    if (options.body !== undefined) {
      headers['Content-Type'] = 'application/json';
      body = JSON.stringify(options.body);
    }
    if (method !== 'GET' && session) headers['X-CSRF-Token'] = session.csrf_token;
    // Timers' requests are not the admin's activity: they do not keep an idle session open.
    if (options.background) headers['X-Portal-Background'] = '1';
    const response = await fetch(path, { method, headers, body, credentials: 'same-origin' });
    if (response.status === 401 && path.startsWith('/portal/')) {
      window.location.assign('/portal');
      throw new Error('The session has ended.');
    }
    const text = await response.text();
    let data = null;
    try {
      data = text ? JSON.parse(text) : null;
    } catch (_) {
      data = { message: text };
    }
    if (!response.ok) {
      const error = new Error(describeError(data, response.status));
      error.status = response.status;
      error.data = data;
      throw error;
    }
    return data;
  }

  // el('td', {class: 'x', 'data-label': 'Time'}, child, 'text', …): attributes are set only
  // from our own constants; children that are not nodes become text nodes.
  function el(tag, attributes = {}, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes)) {
      if (value === undefined || value === null || value === false) continue;
      if (name === 'class') node.className = value;
      else if (name.startsWith('on')) node.addEventListener(name.slice(2), value);
      else node.setAttribute(name, value === true ? '' : String(value));
    }
    for (const child of children.flat()) {
      if (child === undefined || child === null) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  // A <time> in the viewer's time zone, with the UTC instant on hover.
  function time(iso) {
    const date = new Date(iso);
    if (Number.isNaN(date.getTime())) return el('span', {}, String(iso));
    const local = date.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
    return el('time', { datetime: date.toISOString(), title: `${date.toISOString()} (UTC)` }, local);
  }

  function organizationPath(suffix) {
    return `/portal/api/organizations/${encodeURIComponent(session.organization.id)}${suffix}`;
  }

  // Loads the session and fills the header; `intent` is the page's.
  async function start() {
    session = await api('/portal/api/session');
    document.getElementById('org-name').textContent =
      session.organization.name || session.organization.id;
    const back = document.getElementById('return-link');
    // The server accepted only absolute http(s) URLs from the application.
    if (session.return_url && /^https?:\/\//i.test(session.return_url)) {
      back.href = session.return_url;
      back.hidden = false;
    }
    document.getElementById('sign-out').addEventListener('click', async () => {
      try {
        await api('/portal/api/logout', { method: 'POST' });
      } finally {
        window.location.assign('/portal/signed-out');
      }
    });
    return session;
  }

  function list(text) {
    return text.split(',').map((v) => v.trim()).filter((v) => v.length > 0);
  }

  return { api, el, time, start, organizationPath, list, session: () => session };
})();
