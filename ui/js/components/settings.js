// The settings area: a sub-navigation and one screen per section (#/settings/<section>), each
// a module of its own under settings/, loaded when first opened.
import { html, useEffect, lazy } from '../lib.js';

export const SECTIONS = [
  ['application', 'Application', lazy(() => import('./settings/application.js'))],
  ['mail', 'Mail', lazy(() => import('./settings/mail.js'))],
  ['storage', 'File storage', lazy(() => import('./settings/storage.js'))],
  ['backups', 'Backups', lazy(() => import('./settings/backups.js'))],
  ['crons', 'Crons', lazy(() => import('./settings/crons.js'))],
  ['webhooks', 'Webhooks & brokers', lazy(() => import('./settings/webhooks.js'))],
  ['sql', 'SQL console', lazy(() => import('./settings/sql.js'))],
  ['export-collections', 'Export collections', lazy(() => import('./settings/export.js'))],
  ['import-collections', 'Import collections', lazy(() => import('./settings/import.js'))],
];

export default function Settings({ section }) {
  const current = SECTIONS.find(([k]) => k === section) || SECTIONS[0];
  const [key, title, Screen] = current;
  useEffect(() => {
    document.title = `${title} - Settings - oxbase`;
  }, [title]);
  return html`<div class="page settings-page">
    <header class="page-header"><div class="page-title"><span class="crumb">Settings</span><span class="crumb-sep">/</span><h1>${title}</h1></div></header>
    <div class="settings-layout">
      <nav class="settings-nav" aria-label="Settings">
        ${SECTIONS.map(
          ([k, t]) => html`<a key=${k} class=${k === key ? 'nav-link active' : 'nav-link'} href=${`#/settings/${k}`} data-section=${k} aria-current=${k === key ? 'page' : null}>${t}</a>`,
        )}
      </nav>
      <div class="settings-body" data-section=${key}>
        <${Screen} key=${key} />
      </div>
    </div>
  </div>`;
}
