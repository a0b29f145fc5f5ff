// Side panels, the confirm dialog and toasts. Each is rendered by Preact into its own host
// element under <body>, outside the page, so a panel survives the page re-rendering below it.
import { html, render, useEffect, useLayoutEffect, useRef, useState } from '../lib.js';

// ---- side panel -----------------------------------------------------------------

let current = null; // {host, close}

/**
 * Opens a side panel: `content(close)` returns its vnode (usually a component that renders
 * <Panel>). Opening one closes any other. Focus returns where it was when it closes.
 */
export function openPanel(content) {
  closeAllPanels();
  const host = document.createElement('div');
  host.className = 'panel-host';
  document.body.append(host);
  const returnTo = document.activeElement;
  const me = {
    host,
    close() {
      if (current !== me) return;
      current = null;
      render(null, host);
      host.remove();
      if (returnTo && document.contains(returnTo)) returnTo.focus?.();
    },
  };
  current = me;
  render(content(me.close), host);
  return me.close;
}

export function closeAllPanels() {
  current?.close();
}

const FOCUSABLE = 'a[href], button:not([disabled]), input:not([disabled]):not([type=hidden]), select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex="-1"]), [contenteditable="true"]';

/** Keeps Tab inside a modal panel: past the last control it wraps to the first, and back. */
function trapTab(e, box) {
  if (!box) return;
  const all = [...box.querySelectorAll(FOCUSABLE)].filter((el) => el.offsetParent !== null && !el.hidden);
  if (!all.length) return;
  const [first, last] = [all[0], all[all.length - 1]];
  const inside = box.contains(document.activeElement);
  if (!inside || (e.shiftKey && document.activeElement === first)) {
    e.preventDefault();
    (e.shiftKey ? last : first).focus();
  } else if (!e.shiftKey && document.activeElement === last) {
    e.preventDefault();
    first.focus();
  }
}

/** The panel frame: header with title and close button, scrolling body, footer. */
export function Panel({ title, wide = false, onClose, footer, children }) {
  const box = useRef(null);
  // A layout effect: listening from the moment the panel is on screen (an effect runs a frame
  // later, and an Escape pressed in between was lost).
  useLayoutEffect(() => {
    const onKey = (e) => {
      if (e.key === 'Escape' && !document.querySelector('.modal-overlay')) onClose();
      if (e.key === 'Tab' && !document.querySelector('.modal-overlay')) trapTab(e, box.current);
    };
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, [onClose]);
  return html`<div class="overlay" onMouseDown=${(e) => e.target === e.currentTarget && onClose()}>
    <div ref=${box} class=${wide ? 'panel panel-wide' : 'panel'} role="dialog" aria-modal="true" aria-label=${title}>
      <header class="panel-header">
        <h2 class="panel-title">${title}</h2>
        <button type="button" class="btn btn-icon panel-close" title="Close" aria-label="Close" onClick=${onClose}>✕</button>
      </header>
      <div class="panel-body">${children}</div>
      <div class="panel-footer">${footer}</div>
    </div>
  </div>`;
}

// ---- confirm dialog ---------------------------------------------------------------

function ConfirmDialog({ message, detail, confirmText, danger, done }) {
  useLayoutEffect(() => {
    const onKey = (e) => {
      if (e.key === 'Escape') {
        e.stopPropagation();
        done(false);
      }
    };
    document.addEventListener('keydown', onKey, true);
    return () => document.removeEventListener('keydown', onKey, true);
  }, []);
  return html`<div class="modal-overlay" onMouseDown=${(e) => e.target === e.currentTarget && done(false)}>
    <div class="modal" role="alertdialog" aria-modal="true" aria-label=${message}>
      <p class="modal-message">${message}</p>
      ${detail ? html`<p class="modal-detail">${detail}</p>` : null}
      <div class="modal-actions">
        <button type="button" class="btn btn-secondary" onClick=${() => done(false)}>Cancel</button>
        <button type="button" class=${danger ? 'btn btn-danger' : 'btn btn-primary'} ref=${(el) => el && el.focus()} onClick=${() => done(true)}>${confirmText}</button>
      </div>
    </div>
  </div>`;
}

/** Resolves true when confirmed, false when cancelled. */
export function confirmDialog(message, { confirmText = 'Yes', danger = true, detail = '' } = {}) {
  return new Promise((resolve) => {
    const host = document.createElement('div');
    document.body.append(host);
    const returnTo = document.activeElement;
    const done = (v) => {
      render(null, host);
      host.remove();
      if (returnTo && document.contains(returnTo)) returnTo.focus?.();
      resolve(v);
    };
    render(html`<${ConfirmDialog} message=${message} detail=${detail} confirmText=${confirmText} danger=${danger} done=${done} />`, host);
  });
}

// ---- dialog -------------------------------------------------------------------------

function Dialog({ title, close, children }) {
  useLayoutEffect(() => {
    const onKey = (e) => {
      if (e.key === 'Escape') {
        e.stopPropagation();
        close();
      }
    };
    document.addEventListener('keydown', onKey, true);
    return () => document.removeEventListener('keydown', onKey, true);
  }, []);
  return html`<div class="modal-overlay" onMouseDown=${(e) => e.target === e.currentTarget && close()}>
    <div class="modal" role="dialog" aria-modal="true" aria-label=${title}>
      <p class="modal-message">${title}</p>
      ${children}
    </div>
  </div>`;
}

/** A dialog form's error line and its Cancel / submit buttons. */
export function DialogActions({ close, error, busy, id, label, busyLabel }) {
  return html`<div class="form-error" role="alert" hidden=${!error}>${error}</div>
    <div class="modal-actions">
      <button type="button" class="btn btn-secondary" onClick=${close}>Cancel</button>
      <button type="submit" class="btn btn-primary" id=${id} disabled=${busy}>${busy ? busyLabel : label}</button>
    </div>`;
}

/**
 * A table body: "Loading…" while `items` is null, `empty` when there are none, else a row
 * per item.
 */
export function bodyRows(items, columns, empty, row) {
  if (items === null) return html`<tr><td colspan=${columns} class="empty-row">Loading…</td></tr>`;
  if (!items.length) return html`<tr><td colspan=${columns} class="empty-row">${empty}</td></tr>`;
  return items.map(row);
}

/**
 * Opens a modal dialog: `content(close)` returns its body; `onClose` runs whenever it closes
 * (Escape and a click outside included). Focus returns where it was.
 */
export function openDialog(title, content, onClose = null) {
  const host = document.createElement('div');
  document.body.append(host);
  const returnTo = document.activeElement;
  const close = () => {
    if (!host.isConnected) return;
    render(null, host);
    host.remove();
    if (returnTo && document.contains(returnTo)) returnTo.focus?.();
    onClose?.();
  };
  render(html`<${Dialog} title=${title} close=${close}>${content(close)}</${Dialog}>`, host);
  return close;
}

// ---- toasts -------------------------------------------------------------------------

let toasts = [];
let setToastsView = null;
let toastSeq = 0;

function Toasts() {
  const [list, setList] = useState(toasts);
  useEffect(() => {
    setToastsView = setList;
    return () => (setToastsView = null);
  }, []);
  return html`<div class="toasts" aria-live="polite">
    ${list.map((t) => html`<div key=${t.id} class=${`toast toast-${t.kind}${t.hiding ? ' toast-hide' : ''}`} role=${t.kind === 'error' ? 'alert' : 'status'}>${t.message}</div>`)}
  </div>`;
}

function setToasts(next) {
  toasts = next;
  if (!setToastsView) {
    const host = document.createElement('div');
    document.body.append(host);
    render(html`<${Toasts} />`, host);
  }
  setToastsView?.(toasts);
}

export function toast(message, kind = 'success') {
  const id = ++toastSeq;
  setToasts([...toasts, { id, message, kind }].slice(-3));
  const life = kind === 'error' ? 5000 : 2000;
  setTimeout(() => setToasts(toasts.map((t) => (t.id === id ? { ...t, hiding: true } : t))), life);
  setTimeout(() => setToasts(toasts.filter((t) => t.id !== id)), life + 400);
}
