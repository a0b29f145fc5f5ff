// The view library: Preact with htm tagged templates (vendored from npm by ui/vendor.sh; no
// build step). Components import everything from here, so the library is named once.
import { h, render, Fragment, createRef } from '../vendor/preact.mjs';
import htm from '../vendor/htm.mjs';

export { h, render, Fragment, createRef };
export { useState, useEffect, useLayoutEffect, useRef, useMemo, useCallback, useReducer } from '../vendor/hooks.mjs';
export const html = htm.bind(h);

let uid = 0;
/** A unique element id (labels point at inputs by id). */
export const nextId = (prefix = 'f') => `${prefix}-${++uid}`;
