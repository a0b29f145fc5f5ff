// The API client (official PocketBase JS SDK, vendored) and shared app state.
import PocketBase, { LocalAuthStore } from '../vendor/pocketbase.es.mjs';
import { useEffect, useState } from './lib.js';

// Relative base URL: the SDK resolves it against window.location, so the dashboard
// works behind any host/port.
export const pb = new PocketBase('/', new LocalAuthStore('__pb_superuser_auth__'));
pb.autoCancellation(false);

/** The human message of an SDK error ({message, data} of the API). */
export function errorMessage(err) {
  if (!err) return 'Unknown error.';
  const body = err.response || err.data || {};
  if (err.isAbort) return 'The request was cancelled.';
  if (err.status === 0) return 'Cannot reach the server.';
  return body.message || err.message || String(err);
}

/** {field: message} from an API validation error body (`data.<field>.message`). */
export function fieldErrors(err) {
  const data = (err && (err.response?.data || err.data?.data)) || {};
  const out = {};
  flatten(data, '', out);
  return out;
}

function flatten(obj, prefix, out) {
  if (!obj || typeof obj !== 'object') return;
  for (const [k, v] of Object.entries(obj)) {
    if (v && typeof v === 'object' && typeof v.message === 'string') out[prefix + k] = v.message;
    else if (v && typeof v === 'object') flatten(v, `${prefix}${k}.`, out);
  }
}

// ---- collections store --------------------------------------------------------

export const state = {
  collections: [],
  listeners: new Set(),
};

export async function loadCollections() {
  const res = await pb.send('/api/collections', { query: { perPage: 500, sort: 'name' } });
  state.collections = res.items || [];
  for (const fn of state.listeners) fn(state.collections);
  return state.collections;
}

export function onCollections(fn) {
  state.listeners.add(fn);
  return () => state.listeners.delete(fn);
}

/** The collections, re-rendering the component when they are reloaded. */
export function useCollections() {
  const [list, setList] = useState(state.collections);
  useEffect(() => {
    setList(state.collections); // reloaded between the first render and this effect
    return onCollections(setList);
  }, []);
  return list;
}

export function findCollection(nameOrId) {
  return state.collections.find((c) => c.name === nameOrId || c.id === nameOrId) || null;
}

export function isSuperuserSession() {
  const rec = pb.authStore.record;
  return pb.authStore.isValid && !!rec && (rec.collectionName === '_superusers' || pb.authStore.isSuperuser);
}

// ---- the settings the dashboard itself follows ------------------------------------

/**
 * `meta` of the settings (`hideControls`: no collection create and edit controls;
 * `accentColor`: the primary colour).
 */
const meta = { value: {}, listeners: new Set() };

export async function loadAppMeta() {
  setAppMeta((await pb.send('/api/settings', {})).meta || {});
}

export function setAppMeta(value) {
  meta.value = value;
  // The accent colour is the dashboard's primary colour (a valid #rrggbb only).
  const accent = /^#[0-9a-f]{6}$/i.test(value.accentColor || '') ? value.accentColor : '';
  if (accent) document.documentElement.style.setProperty('--primary', accent);
  else document.documentElement.style.removeProperty('--primary');
  for (const fn of meta.listeners) fn(value);
}

export function useAppMeta() {
  const [value, setValue] = useState(meta.value);
  useEffect(() => {
    setValue(meta.value);
    meta.listeners.add(setValue);
    return () => meta.listeners.delete(setValue);
  }, []);
  return value;
}
