// Entry point: session handling, layout (sidebar + main area) and the hash router.
import { h, mount, clear, closeAllPanels, toast } from './dom.js';
import { pb, loadCollections, onCollections, state, isSuperuserSession, errorMessage } from './api.js';
import { renderLogin } from './login.js';
import { renderRecords } from './records.js';
import { openCollectionEditor } from './collection-editor.js';
import { renderSettings } from './settings.js';

const root = document.getElementById('app');
let layout = null; // {sidebar, main, list}
let cleanupView = null;

// The API answers 401 when the token expired or was revoked: go back to the login screen.
pb.afterSend = (response, data) => {
  if (response.status === 401 && pb.authStore.isValid && !response.url.includes('/auth-with-password')) {
    pb.authStore.clear();
  }
  return data;
};

pb.authStore.onChange(() => {
  if (!isSuperuserSession()) showLogin();
});

function showLogin() {
  layout = null;
  cleanupView?.();
  cleanupView = null;
  closeAllPanels();
  document.title = 'Login - oxbase';
  renderLogin(root, {
    onLoggedIn: () => {
      start();
    },
  });
}

async function start() {
  if (!isSuperuserSession()) return showLogin();
  buildLayout();
  try {
    await loadCollections();
  } catch (err) {
    if (!isSuperuserSession()) return;
    toast(errorMessage(err), 'error');
  }
  route();
}

// ---- layout -------------------------------------------------------------------

function buildLayout() {
  const search = h('input.sidebar-search', { type: 'search', placeholder: 'Search collections…', 'aria-label': 'Search collections' });
  const list = h('div.sidebar-list');
  const email = pb.authStore.record?.email || '';
  const sidebar = h(
    'nav.sidebar',
    { 'aria-label': 'Main' },
    h('a.brand', { href: '#/' }, h('span.logo', 'ox'), h('span', 'oxbase')),
    h('div.sidebar-section-title', 'Collections'),
    search,
    list,
    h('button.btn.btn-secondary.btn-block.new-collection', { type: 'button', onclick: () => openCollectionEditor(null, { onSaved: afterCollectionSaved }) }, '+ New collection'),
    h(
      'div.sidebar-bottom',
      h('a.nav-link#nav-settings', { href: '#/settings' }, '⚙ Settings'),
      h('div.sidebar-user', { title: email }, email),
      h('button.btn.btn-secondary.btn-block#logout', { type: 'button', onclick: logout }, 'Log out'),
    ),
  );
  const main = h('main.main');
  mount(root, h('div.app', sidebar, main));
  layout = { sidebar, main, list, search };
  search.addEventListener('input', renderSidebarList);
  onCollections(renderSidebarList);
}

function currentRoute() {
  const hash = decodeURIComponent(location.hash.replace(/^#\/?/, ''));
  const [section, ...rest] = hash.split('/');
  return { section, arg: rest.join('/') };
}

function renderSidebarList() {
  if (!layout) return;
  const q = layout.search.value.trim().toLowerCase();
  const { section, arg } = currentRoute();
  const active = section === 'collections' ? arg : null;
  const items = state.collections.filter((c) => !q || c.name.toLowerCase().includes(q));
  const link = (c) =>
    h(
      'a.nav-link.collection-link',
      { href: `#/collections/${encodeURIComponent(c.name)}`, class: c.name === active ? 'active' : '', dataset: { collection: c.name } },
      h('span.type-icon', { title: c.type }, c.type === 'auth' ? '☺' : c.type === 'view' ? '◫' : '▤'),
      h('span.nav-label', c.name),
    );
  const user = items.filter((c) => !c.system);
  const system = items.filter((c) => c.system);
  mount(
    layout.list,
    user.length ? user.map(link) : h('div.sidebar-empty', q ? 'No matches.' : 'No collections yet.'),
    system.length
      ? h('details.sidebar-system', { open: system.some((c) => c.name === active) || !!q }, h('summary', `System (${system.length})`), system.map(link))
      : null,
  );
}

function logout() {
  pb.authStore.clear();
  location.hash = '#/';
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
    if (location.hash !== target) location.hash = target;
    else route();
  }
}

// ---- router -------------------------------------------------------------------

function route() {
  if (!isSuperuserSession()) return showLogin();
  if (!layout) return start();
  cleanupView?.();
  cleanupView = null;
  closeAllPanels();
  const { section, arg } = currentRoute();
  renderSidebarList();
  const main = clear(layout.main);
  if (section === 'settings') {
    document.title = 'Settings - oxbase';
    cleanupView = renderSettings(main);
    return;
  }
  if (section === 'collections' && arg) {
    const c = state.collections.find((x) => x.name === arg || x.id === arg);
    if (c) {
      document.title = `${c.name} - oxbase`;
      cleanupView = renderRecords(main, c, {
        onEditCollection: () => openCollectionEditor(c, { onSaved: afterCollectionSaved }),
      });
      return;
    }
    mount(main, h('div.empty-state', h('h2', 'Collection not found'), h('p', `There is no collection named "${arg}".`)));
    return;
  }
  // Default: the first non-system collection, or an empty state.
  const first = state.collections.find((c) => !c.system);
  if (first) {
    location.replace(`#/collections/${encodeURIComponent(first.name)}`);
    return;
  }
  document.title = 'oxbase';
  mount(
    main,
    h(
      'div.empty-state',
      h('h2', 'Welcome to oxbase'),
      h('p', 'You have no collections yet. Create one to start storing records.'),
      h('button.btn.btn-primary', { type: 'button', onclick: () => openCollectionEditor(null, { onSaved: afterCollectionSaved }) }, '+ New collection'),
    ),
  );
}

window.addEventListener('hashchange', route);

// Where the OAuth2 redirect sends the SDK's popup window (PocketBase's paths): a page for
// the end user, no session needed.
const OAUTH2_PAGES = {
  'auth/oauth2-redirect-success': 'Auth completed. You can go back to the app if this window is not automatically closed.',
  'auth/oauth2-redirect-failure': 'Auth failed. You can close this window and go back to the app to try again.',
};

function oauth2Page() {
  const text = OAUTH2_PAGES[location.hash.replace(/^#\/?/, '')];
  if (!text) return false;
  document.title = 'OAuth2 - oxbase';
  mount(root, h('div.empty-state.oauth2-result', h('p', text)));
  setTimeout(() => window.close(), 300);
  return true;
}

// Validate a stored session before showing the dashboard.
(async function boot() {
  if (oauth2Page()) return;
  if (isSuperuserSession()) {
    try {
      await pb.collection('_superusers').authRefresh();
    } catch (err) {
      if (err.status === 401 || err.status === 403 || err.status === 404) pb.authStore.clear();
    }
  }
  start();
})();
