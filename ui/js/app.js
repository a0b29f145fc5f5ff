// Entry point: session, layout (sidebar + main area) and the hash router, as Preact
// components. Routes: #/collections/<name>?filter=&sort=&page=&perPage=, #/settings/<section>,
// #/logs?filter=, #/metrics, #/pbinstall/<token> (first start), #/auth/confirm-password-reset/<token>
// (a reset email's link), and the OAuth2 redirect pages. The
// settings, logs and metrics screens are loaded when first opened (they are not in the first load).
import { html, render, useState, useEffect, useCallback, lazy } from './lib.js';
import { pb, loadCollections, useCollections, isSuperuserSession, errorMessage, loadAppMeta, useAppMeta } from './api.js';
import { closeAllPanels, openPanel, toast } from './components/overlays.js';
import { Login, ConfirmPasswordReset } from './components/login.js';
import { Install } from './components/install.js';
import { RecordsPage } from './components/records.js';
import { CollectionEditor, scaffolds } from './components/collection-editor.js';

// Loaded when first opened: not part of the first load.
const Settings = lazy(() => import('./components/settings.js'));
const Logs = lazy(() => import('./components/logs.js'));
const Metrics = lazy(() => import('./components/metrics.js'));

// The API answers 401 when the token expired or was revoked: go back to the login screen.
pb.afterSend = (response, data) => {
  if (response.status === 401 && pb.authStore.isValid && !response.url.includes('/auth-with-password')) {
    pb.authStore.clear();
  }
  return data;
};

/** The current hash as {section, arg, query, path}. */
export function parseRoute() {
  const raw = location.hash.replace(/^#\/?/, '');
  const [path, search = ''] = raw.split('?');
  const [section, ...rest] = decodeURIComponent(path).split('/');
  return { section, arg: rest.join('/'), query: new URLSearchParams(search), path };
}

function useRoute() {
  const [route, setRoute] = useState(parseRoute);
  useEffect(() => {
    const on = () => setRoute(parseRoute());
    window.addEventListener('hashchange', on);
    return () => window.removeEventListener('hashchange', on);
  }, []);
  return route;
}

/** Opens the collection editor (null: a new collection). */
export async function editCollection(collection) {
  let sc;
  try {
    sc = await scaffolds();
  } catch (err) {
    toast(errorMessage(err), 'error');
    return;
  }
  openPanel((close) => html`<${CollectionEditor} collection=${collection} scaffolds=${sc} close=${close} onSaved=${afterCollectionSaved} />`);
}

async function afterCollectionSaved(collection, { deleted = false } = {}) {
  try {
    await loadCollections();
  } catch (err) {
    toast(errorMessage(err), 'error');
  }
  if (deleted) location.hash = '#/';
  else if (collection) {
    const target = `#/collections/${encodeURIComponent(collection.name)}`;
    if (!location.hash.startsWith(target)) location.hash = target;
    else window.dispatchEvent(new Event('collection-saved'));
  }
}

// ---- sidebar ----------------------------------------------------------------------

function Sidebar({ active, section, onNavigate }) {
  const collections = useCollections();
  const [q, setQ] = useState('');
  const needle = q.trim().toLowerCase();
  const items = collections.filter((c) => !needle || c.name.toLowerCase().includes(needle));
  const user = items.filter((c) => !c.system);
  const system = items.filter((c) => c.system);
  const email = pb.authStore.record?.email || '';
  const { hideControls } = useAppMeta();
  const link = (c) => html`<a key=${c.id} class=${c.name === active ? 'nav-link collection-link active' : 'nav-link collection-link'}
      href=${`#/collections/${encodeURIComponent(c.name)}`} data-collection=${c.name} onClick=${onNavigate}>
      <span class="type-icon" title=${c.type}>${c.type === 'auth' ? '☺' : c.type === 'view' ? '◫' : '▤'}</span>
      <span class="nav-label">${c.name}</span>
    </a>`;
  return html`<nav class="sidebar" id="sidebar" aria-label="Main">
    <a class="brand" href="#/"><span class="logo">ox</span><span>oxbase</span></a>
    <div class="sidebar-section-title">Collections</div>
    <input class="sidebar-search" type="search" placeholder="Search collections…" aria-label="Search collections" value=${q} onInput=${(e) => setQ(e.target.value)} />
    <div class="sidebar-list">
      ${user.length ? user.map(link) : html`<div class="sidebar-empty">${needle ? 'No matches.' : 'No collections yet.'}</div>`}
      ${system.length
        ? html`<details class="sidebar-system" open=${system.some((c) => c.name === active) || !!needle}>
            <summary>System (${system.length})</summary>
            ${system.map(link)}
          </details>`
        : null}
    </div>
    ${hideControls ? null : html`<button type="button" class="btn btn-secondary btn-block new-collection" onClick=${() => (onNavigate(), editCollection(null))}>+ New collection</button>`}
    <div class="sidebar-bottom">
      <a class=${section === 'logs' ? 'nav-link active' : 'nav-link'} id="nav-logs" href="#/logs" onClick=${onNavigate}>☰ Logs</a>
      <a class=${section === 'metrics' ? 'nav-link active' : 'nav-link'} id="nav-metrics" href="#/metrics" onClick=${onNavigate}>◔ Metrics</a>
      <a class=${section === 'settings' ? 'nav-link active' : 'nav-link'} id="nav-settings" href="#/settings" onClick=${onNavigate}>⚙ Settings</a>
      <div class="sidebar-user" title=${email}>${email}</div>
      <button type="button" class="btn btn-secondary btn-block" id="logout" onClick=${() => (pb.authStore.clear(), (location.hash = '#/'))}>Log out</button>
    </div>
  </nav>`;
}

// ---- main area ----------------------------------------------------------------------

function Main({ route, loaded }) {
  const collections = useCollections();
  const { hideControls } = useAppMeta();
  if (route.section === 'settings') return html`<${Settings} section=${route.arg} />`;
  if (route.section === 'logs') return html`<${Logs} query=${route.query} />`;
  if (route.section === 'metrics') return html`<${Metrics} />`;
  if (route.section === 'collections' && route.arg) {
    const c = collections.find((x) => x.name === route.arg || x.id === route.arg);
    if (c) return html`<${RecordsPage} key=${c.id + ':' + (c.updated || '')} collection=${c} query=${route.query} onEditCollection=${hideControls ? null : () => editCollection(c)} />`;
    if (!loaded) return html`<div class="empty-state"><p class="muted">Loading…</p></div>`;
    return html`<div class="empty-state"><h2>Collection not found</h2><p>There is no collection named "${route.arg}".</p></div>`;
  }
  if (!loaded) return html`<div class="empty-state"><p class="muted">Loading…</p></div>`;
  return html`<div class="empty-state">
    <h2>Welcome to oxbase</h2>
    <p>You have no collections yet. Create one to start storing records.</p>
    ${hideControls ? null : html`<button type="button" class="btn btn-primary" onClick=${() => editCollection(null)}>+ New collection</button>`}
  </div>`;
}

function Layout({ route }) {
  const [loaded, setLoaded] = useState(false);
  const [menuOpen, setMenuOpen] = useState(false);
  const collections = useCollections();
  useEffect(() => {
    loadCollections()
      .catch((err) => isSuperuserSession() && toast(errorMessage(err), 'error'))
      .finally(() => {
        setLoaded(true);
        // After the collections: the first screen does not wait for it.
        loadAppMeta().catch(() => {});
      });
  }, []);
  // A new screen closes the panels of the previous one.
  useEffect(() => closeAllPanels(), [route.section, route.arg]);
  // A collection someone else created since the list was loaded: load the list again.
  useEffect(() => {
    if (!loaded || route.section !== 'collections' || !route.arg) return;
    if (!collections.some((c) => c.name === route.arg || c.id === route.arg)) {
      setLoaded(false);
      loadCollections()
        .catch(() => {})
        .finally(() => setLoaded(true));
    }
  }, [route.arg]);
  // Default screen: the first non-system collection.
  useEffect(() => {
    if (!loaded || route.section) return;
    const first = collections.find((c) => !c.system);
    if (first) location.replace(`#/collections/${encodeURIComponent(first.name)}`);
  }, [loaded, route.section, collections]);
  useEffect(() => {
    if (['settings', 'logs', 'metrics'].includes(route.section)) return; // those screens name themselves
    const c = collections.find((x) => x.name === route.arg);
    document.title = c ? `${c.name} - oxbase` : 'oxbase';
  }, [route, collections]);
  const close = useCallback(() => setMenuOpen(false), []);
  return html`<div class=${menuOpen ? 'app sidebar-open' : 'app'}>
    <header class="topbar">
      <button type="button" class="btn btn-icon" id="sidebar-toggle" aria-controls="sidebar" aria-expanded=${String(menuOpen)} aria-label="Menu" onClick=${() => setMenuOpen(!menuOpen)}>☰</button>
      <a class="brand" href="#/"><span class="logo">ox</span><span>oxbase</span></a>
    </header>
    <${Sidebar} active=${route.section === 'collections' ? route.arg : null} section=${route.section} onNavigate=${close} />
    <div class="sidebar-scrim" onClick=${close}></div>
    <main class="main"><${Main} route=${route} loaded=${loaded} /></main>
  </div>`;
}

// ---- root -----------------------------------------------------------------------------

// Where the OAuth2 redirect sends the SDK's popup window (PocketBase's paths): a page for
// the end user, no session needed.
const OAUTH2_PAGES = {
  'auth/oauth2-redirect-success': 'Auth completed. You can go back to the app if this window is not automatically closed.',
  'auth/oauth2-redirect-failure': 'Auth failed. You can close this window and go back to the app to try again.',
};

function App({ booted }) {
  const route = useRoute();
  const [session, setSession] = useState(isSuperuserSession());
  useEffect(
    () =>
      pb.authStore.onChange(() => {
        const on = isSuperuserSession();
        if (!on) closeAllPanels();
        setSession(on);
      }),
    [],
  );
  const oauth2 = OAUTH2_PAGES[route.path];
  useEffect(() => {
    if (oauth2) setTimeout(() => window.close(), 300);
  }, [oauth2]);
  if (oauth2) {
    document.title = 'OAuth2 - oxbase';
    return html`<div class="empty-state oauth2-result"><p>${oauth2}</p></div>`;
  }
  if (route.section === 'pbinstall') {
    document.title = 'Install - oxbase';
    return html`<${Install} token=${route.arg} onInstalled=${() => location.replace('#/')} />`;
  }
  if (route.section === 'auth' && route.arg.startsWith('confirm-password-reset/')) {
    document.title = 'Reset password - oxbase';
    return html`<${ConfirmPasswordReset} token=${route.arg.slice('confirm-password-reset/'.length)} />`;
  }
  if (!booted) return html`<div class="boot">Loading…</div>`;
  if (!session) {
    document.title = 'Login - oxbase';
    return html`<${Login} />`;
  }
  return html`<${Layout} route=${route} />`;
}

const root = document.getElementById('app');
root.textContent = '';
render(html`<${App} booted=${false} />`, root);

// Validate a stored session before showing the dashboard.
(async function boot() {
  if (isSuperuserSession()) {
    try {
      await pb.collection('_superusers').authRefresh();
    } catch (err) {
      if (err.status === 401 || err.status === 403 || err.status === 404) pb.authStore.clear();
    }
  }
  render(html`<${App} booted=${true} />`, root);
})();
