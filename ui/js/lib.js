// The view library: Preact with htm tagged templates (vendored from npm by ui/vendor.sh; no
// build step). Components import everything from here, so the library is named once.
import { h, render, Fragment, createRef } from '../vendor/preact.mjs';
import htm from '../vendor/htm.mjs';
import { useState as useStateHook, useEffect as useEffectHook } from '../vendor/hooks.mjs';

export { h, render, Fragment, createRef };
export { useState, useEffect, useLayoutEffect, useRef, useMemo, useCallback, useReducer } from '../vendor/hooks.mjs';
export const html = htm.bind(h);

/**
 * The filter a search form was submitted with, read from its `filter` input: Enter right after
 * typing can come before the re-render that brings the typed text into state.
 */
export function submitted(e) {
  return e.currentTarget.elements.namedItem('filter')?.value ?? '';
}

let uid = 0;
/** A unique element id (labels point at inputs by id). */
export const nextId = (prefix = 'f') => `${prefix}-${++uid}`;

/**
 * A component whose module is imported when it is first rendered (`name`: the export, by
 * default the module's default one), so it stays out of the first load.
 */
export function lazy(load, name = 'default') {
  let loaded = null;
  return function Lazy(props) {
    const [Component, setComponent] = useStateHook(() => loaded);
    const [error, setError] = useStateHook('');
    useEffectHook(() => {
      if (!Component)
        load().then(
          (m) => setComponent(() => (loaded = m[name])),
          (err) => setError(String(err?.message || err)),
        );
    }, []);
    if (error) return html`<div class="form-error" role="alert">${error}</div>`;
    return Component ? html`<${Component} ...${props} />` : html`<p class="muted">Loading…</p>`;
  };
}
