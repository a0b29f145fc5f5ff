// The settings area: a sub-navigation and one screen per section (#/settings/<section>), each
// a module of its own under settings/, loaded when first opened.
import { html, useState, useEffect } from '../lib.js';
import { errorMessage } from '../api.js';

export const SECTIONS = [
  ['application', 'Application', () => import('./settings/application.js')],
  ['mail', 'Mail', () => import('./settings/mail.js')],
  ['storage', 'File storage', () => import('./settings/storage.js')],
  ['backups', 'Backups', () => import('./settings/backups.js')],
  ['crons', 'Crons', () => import('./settings/crons.js')],
  ['webhooks', 'Webhooks & brokers', () => import('./settings/webhooks.js')],
  ['sql', 'SQL console', () => import('./settings/sql.js')],
  ['export-collections', 'Export collections', () => import('./settings/export.js')],
  ['import-collections', 'Import collections', () => import('./settings/import.js')],
];

export default function Settings({ section }) {
  const current = SECTIONS.find(([k]) => k === section) || SECTIONS[0];
  const [key, title, load] = current;
  const [screen, setScreen] = useState(null);
  const [error, setError] = useState('');
  useEffect(() => {
    let alive = true;
    setScreen(null);
    setError('');
    load().then(
      (m) => alive && setScreen(() => m.default),
      (err) => alive && setError(errorMessage(err)),
    );
    return () => (alive = false);
  }, [key]);
  useEffect(() => {
    document.title = `${title} - Settings - oxbase`;
  }, [title]);
  const Screen = screen;
  return html`<div class="page settings-page">
    <header class="page-header"><div class="page-title"><span class="crumb">Settings</span><span class="crumb-sep">/</span><h1>${title}</h1></div></header>
    <div class="settings-layout">
      <nav class="settings-nav" aria-label="Settings">
        ${SECTIONS.map(
          ([k, t]) => html`<a key=${k} class=${k === key ? 'nav-link active' : 'nav-link'} href=${`#/settings/${k}`} data-section=${k} aria-current=${k === key ? 'page' : null}>${t}</a>`,
        )}
      </nav>
      <div class="settings-body" data-section=${key}>
        ${error ? html`<div class="form-error" role="alert">${error}</div>` : Screen ? html`<${Screen} key=${key} />` : html`<p class="muted">Loading…</p>`}
      </div>
    </div>
  </div>`;
}
