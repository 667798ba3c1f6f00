// "In the signed log", checked in the viewer's browser rather than taken from the server:
// the event's leaf hash is recomputed from its fields (RFC 8785 JSON, SHA-256 with the RFC 9162
// leaf prefix), the root from the leaf and the inclusion proof (RFC 9162 §2.1.3.2), and the
// checkpoint's Ed25519 signature (a C2SP signed note) is verified against the deployment's
// published key, all with WebCrypto. The key is remembered in this browser after the first
// check, so a later change of key is pointed out.
'use strict';

const Proof = (() => {
  const utf8 = new TextEncoder();

  function fromBase64(text) {
    const binary = atob(text);
    const bytes = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i += 1) bytes[i] = binary.charCodeAt(i);
    return bytes;
  }

  function toHex(bytes) {
    return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
  }

  function concat(...parts) {
    const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const part of parts) {
      out.set(part, at);
      at += part.length;
    }
    return out;
  }

  function equal(a, b) {
    return a.length === b.length && a.every((byte, i) => byte === b[i]);
  }

  async function sha256(bytes) {
    return new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
  }

  // RFC 8785: ECMAScript's own JSON serialization of strings and numbers, object keys sorted
  // by UTF-16 code units (what Array.prototype.sort does), no whitespace.
  function canonicalJson(value) {
    if (value === null || typeof value !== 'object') {
      if (typeof value === 'number' && !Number.isFinite(value)) throw new Error('not a JSON number');
      return JSON.stringify(value);
    }
    if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
    const keys = Object.keys(value).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(value[k])}`).join(',')}}`;
  }

  // The canonical form of an event (format version 1), from the read API's event object.
  function canonicalEvent(event) {
    const form = {
      v: 1,
      id: event.id,
      organization_id: event.organization_id,
      action: event.action,
      version: event.version,
      occurred_at: event.occurred_at,
      actor: event.actor,
      targets: event.targets,
      context: event.context,
    };
    if (event.metadata !== undefined) form.metadata = event.metadata;
    return canonicalJson(form);
  }

  async function leafHash(event) {
    return sha256(concat(new Uint8Array([0]), utf8.encode(canonicalEvent(event))));
  }

  async function node(left, right) {
    return sha256(concat(new Uint8Array([1]), left, right));
  }

  // RFC 9162 §2.1.3.2. Sizes are plain numbers: exact up to 2^53, halved by division (the
  // bitwise operators would cut them to 32 bits).
  async function rootFromInclusion(leaf, index, size, proof) {
    if (index >= size) throw new Error('the leaf index is beyond the tree');
    let fn = index;
    let sn = size - 1;
    let hash = leaf;
    for (const sibling of proof) {
      if (sn === 0) throw new Error('the proof is longer than the tree is deep');
      if (fn % 2 === 1 || fn === sn) {
        hash = await node(sibling, hash);
        if (fn % 2 === 0) {
          while (fn % 2 === 0 && fn !== 0) {
            fn = Math.floor(fn / 2);
            sn = Math.floor(sn / 2);
          }
        }
      } else {
        hash = await node(hash, sibling);
      }
      fn = Math.floor(fn / 2);
      sn = Math.floor(sn / 2);
    }
    if (sn !== 0) throw new Error('the proof is shorter than the tree is deep');
    return hash;
  }

  // A C2SP signed note: the text up to the blank line is what is signed.
  function parseNote(note) {
    const split = note.indexOf('\n\n');
    if (split < 0) throw new Error('the checkpoint is not a signed note');
    const text = note.slice(0, split + 1);
    const [origin, size, root] = text.split('\n');
    const signatures = note
      .slice(split + 2)
      .split('\n')
      .filter((line) => line.startsWith('\u2014 '))
      .map((line) => {
        const [name, signature] = line.slice(2).split(' ');
        return { name, bytes: fromBase64(signature) };
      });
    return { text, origin, size: Number(size), root: fromBase64(root), signatures };
  }

  async function keyId(name, publicKey) {
    const digest = await sha256(concat(utf8.encode(name), new Uint8Array([0x0a, 0x01]), publicKey));
    return digest.slice(0, 4);
  }

  // `<name>+<hex key id>+<base64(0x01 ‖ Ed25519 public key)>`
  async function parseVerifierKey(text) {
    // The base64 part may itself hold '+': only the first two separate fields.
    const match = /^([^+\s]+)\+([0-9a-f]{8})\+([A-Za-z0-9+/=]+)$/.exec(text.trim());
    if (!match) throw new Error('the published key is not a signed-note verifier key');
    const [, name, id, encoded] = match;
    const bytes = fromBase64(encoded);
    if (bytes.length !== 33 || bytes[0] !== 0x01) throw new Error('the published key is not an Ed25519 key');
    const publicKey = bytes.slice(1);
    if (toHex(await keyId(name, publicKey)) !== id) throw new Error('the published key id does not match the key');
    return { name, id, publicKey, text: text.trim() };
  }

  async function verifySignature(note, key) {
    const wanted = await keyId(note.origin, key.publicKey);
    const signature = note.signatures.find((s) => s.name === note.origin && equal(s.bytes.slice(0, 4), wanted));
    if (!signature) return false;
    const cryptoKey = await crypto.subtle.importKey('raw', key.publicKey, { name: 'Ed25519' }, false, ['verify']);
    return crypto.subtle.verify({ name: 'Ed25519' }, cryptoKey, signature.bytes.slice(4), utf8.encode(note.text));
  }

  // Remembers the deployment key seen first in this browser; reports a different one.
  function pinnedKeyChanged(key) {
    const slot = `auditlog-log-key:${window.location.host}`;
    try {
      const seen = window.localStorage.getItem(slot);
      if (seen === null) {
        window.localStorage.setItem(slot, key.text);
        return false;
      }
      return seen !== key.text;
    } catch (_) {
      return false;
    }
  }

  // → {status: 'verified' | 'pending' | 'failed' | 'unavailable', message, steps: [text]}
  async function check(event, proofPath) {
    const steps = [];
    if (!window.crypto || !window.crypto.subtle) {
      return { status: 'unavailable', message: 'This page cannot check proofs: the browser offers no WebCrypto here (it needs HTTPS).', steps };
    }
    let proof;
    try {
      proof = await Portal.api(proofPath);
    } catch (error) {
      if (error.status === 409) {
        return { status: 'pending', message: 'Not yet in the signed log: the next checkpoint will include it, usually within seconds.', steps };
      }
      return { status: 'failed', message: `FAILED: the server could not prove this event: ${error.message}`, steps };
    }
    try {
      const keyText = await fetch('/.well-known/auditlog/log-key', { credentials: 'same-origin' }).then((r) => {
        if (!r.ok) throw new Error(`the key is not published (${r.status})`);
        return r.text();
      });
      const key = await parseVerifierKey(keyText);
      steps.push(`Fetched the deployment's published key ${key.name}+${key.id}.`);
      const leaf = await leafHash(event);
      steps.push(`Recomputed the event's leaf hash from its fields: ${toHex(leaf).slice(0, 16)}…`);
      if (!equal(leaf, fromBase64(proof.leaf_hash))) {
        return { status: 'failed', message: 'FAILED: the event shown is not the event that was logged (its leaf hash differs).', steps };
      }
      const root = await rootFromInclusion(leaf, proof.leaf_index, proof.tree_size, proof.proof.map(fromBase64));
      steps.push(`Recomputed the log's root from the leaf and ${proof.proof.length} proof hashes: ${toHex(root).slice(0, 16)}…`);
      const note = parseNote(proof.checkpoint);
      const expectedOrigin = `${key.name}/${event.organization_id}`;
      if (note.origin !== expectedOrigin) {
        return { status: 'failed', message: `FAILED: the checkpoint is for the log "${note.origin}", not this organization's.`, steps };
      }
      if (note.size !== proof.tree_size || !equal(note.root, root)) {
        return { status: 'failed', message: 'FAILED: the recomputed root is not the root the checkpoint signs.', steps };
      }
      steps.push(`The checkpoint of ${note.origin} at size ${note.size} names that root.`);
      if (!(await verifySignature(note, key))) {
        return { status: 'failed', message: 'FAILED: the checkpoint\u2019s signature does not verify with the published key.', steps };
      }
      steps.push('Its Ed25519 signature verifies with the published key.');
      if (pinnedKeyChanged(key)) {
        steps.push('Note: this deployment\u2019s key differs from the one this browser saw before.');
        return { status: 'failed', message: 'FAILED: the proof verifies, but with a key different from the one this browser saw earlier for this server.', steps };
      }
      return { status: 'verified', message: `Verified: event #${proof.leaf_index} is in the signed log of size ${note.size}.`, steps };
    } catch (error) {
      const unsupported = error && error.name === 'NotSupportedError';
      return {
        status: unsupported ? 'unavailable' : 'failed',
        message: unsupported ? 'This browser cannot verify Ed25519 signatures.' : `FAILED: ${error.message}`,
        steps,
      };
    }
  }

  return { check, canonicalEvent, rootFromInclusion, leafHash };
})();
