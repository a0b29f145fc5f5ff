// Tiny DOM helpers: element builder, side panel, confirm dialog, toasts.

/**
 * h('div.card#main', {onclick, class, ...attrs}, ...children)
 * Children may be strings, numbers, nodes, arrays, null/false (skipped).
 */
export function h(tag, attrs, ...children) {
  if (attrs == null || typeof attrs !== 'object' || attrs instanceof Node || Array.isArray(attrs)) {
    children.unshift(attrs);
    attrs = {};
  }
  const m = tag.match(/^([a-z0-9-]+)?((?:[.#][\w-]+)*)$/i);
  const el = document.createElement((m && m[1]) || 'div');
  if (m && m[2]) {
    for (const part of m[2].match(/[.#][\w-]+/g)) {
      if (part[0] === '.') el.classList.add(part.slice(1));
      else el.id = part.slice(1);
    }
  }
  for (const [k, v] of Object.entries(attrs)) {
    if (v == null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2).toLowerCase(), v);
    else if (k === 'class') el.className += (el.className ? ' ' : '') + v;
    else if (k === 'style' && typeof v === 'object') Object.assign(el.style, v);
    else if (k === 'value') el.value = v;
    else if (k === 'checked') el.checked = !!v;
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (v === true) el.setAttribute(k, '');
    else el.setAttribute(k, String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c == null || c === false || c === true) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
  return el;
}

export function mount(el, ...children) {
  clear(el);
  append(el, children);
  return el;
}

let uid = 0;
export const nextId = (prefix = 'f') => `${prefix}-${++uid}`;

// ---- side panel -------------------------------------------------------------

/**
 * Opens a side panel. Returns {el, body, footer, close, setBusy}.
 * onClose is called once when it is closed (by close(), Escape or the overlay).
 */
export function openPanel({ title, wide = false, onClose } = {}) {
  closeAllPanels();
  const body = h('div.panel-body');
  const footer = h('div.panel-footer');
  const titleEl = h('h2.panel-title', title);
  const closeBtn = h('button.btn.btn-icon.panel-close', { type: 'button', title: 'Close', 'aria-label': 'Close' }, '✕');
  const panel = h(
    'aside.panel',
    { class: wide ? 'panel-wide' : '', role: 'dialog', 'aria-modal': 'true', 'aria-label': title },
    h('header.panel-header', titleEl, closeBtn),
    body,
    footer,
  );
  const overlay = h('div.overlay', panel);
  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    document.removeEventListener('keydown', onKey);
    overlay.remove();
    onClose?.();
  };
  const onKey = (e) => {
    if (e.key === 'Escape' && !document.querySelector('.modal-overlay')) close();
  };
  closeBtn.addEventListener('click', close);
  overlay.addEventListener('mousedown', (e) => {
    if (e.target === overlay) close();
  });
  document.addEventListener('keydown', onKey);
  overlay._close = close;
  document.body.append(overlay);
  return { el: panel, body, footer, titleEl, close };
}

export function closeAllPanels() {
  for (const o of document.querySelectorAll('.overlay')) o._close?.();
}

// ---- confirm dialog ---------------------------------------------------------

/** Resolves true when confirmed, false when cancelled. */
export function confirmDialog(message, { confirmText = 'Yes', danger = true, detail = '' } = {}) {
  return new Promise((resolve) => {
    const yes = h('button.btn', { type: 'button', class: danger ? 'btn-danger' : 'btn-primary' }, confirmText);
    const no = h('button.btn.btn-secondary', { type: 'button' }, 'Cancel');
    const box = h(
      'div.modal',
      { role: 'alertdialog', 'aria-modal': 'true' },
      h('p.modal-message', message),
      detail ? h('p.modal-detail', detail) : null,
      h('div.modal-actions', no, yes),
    );
    const overlay = h('div.modal-overlay', box);
    const done = (v) => {
      document.removeEventListener('keydown', onKey, true);
      overlay.remove();
      resolve(v);
    };
    const onKey = (e) => {
      if (e.key === 'Escape') {
        e.stopPropagation();
        done(false);
      }
    };
    yes.addEventListener('click', () => done(true));
    no.addEventListener('click', () => done(false));
    overlay.addEventListener('mousedown', (e) => e.target === overlay && done(false));
    document.addEventListener('keydown', onKey, true);
    document.body.append(overlay);
    yes.focus();
  });
}

// ---- toasts -----------------------------------------------------------------

export function toast(message, kind = 'success') {
  let host = document.querySelector('.toasts');
  if (!host) {
    host = h('div.toasts', { 'aria-live': 'polite' });
    document.body.append(host);
  }
  const t = h('div.toast', { class: `toast-${kind}`, role: kind === 'error' ? 'alert' : 'status' }, message);
  host.append(t);
  while (host.children.length > 3) host.firstChild.remove();
  setTimeout(() => t.classList.add('toast-hide'), kind === 'error' ? 5000 : 2000);
  setTimeout(() => t.remove(), kind === 'error' ? 5400 : 2400);
}
