// The input of one API rule: a textarea with syntax highlighting and completion, loaded with
// the rules tab. Highlighting without a library: the textarea's text is transparent and a
// <pre aria-hidden> under it shows the same text as coloured tokens (same font, padding and
// wrapping, so the two line up; the textarea grows with its text, so neither scrolls).
// Completion is the ARIA combobox pattern: the textarea stays the focused, labelled input and
// points at the active suggestion of a listbox with aria-activedescendant.
import { html, useState, useRef, useMemo, useEffect, useLayoutEffect, nextId } from '../lib.js';
import { useCollections } from '../api.js';
import { tokenize, wordAt, ruleCompleter } from './rule-language.js';

/**
 * `value`: the rule's text; `draft`: the collection being edited (its fields are suggested);
 * `onChange(text)`, `onBlur()` (the editor checks the rule with the server then);
 * `inputRef` receives the textarea.
 */
export function RuleInput({ id, name, value, disabled, placeholder, label, draft, invalid, describedBy, inputRef, onChange, onBlur }) {
  const collections = useCollections();
  const suggest = useMemo(() => ruleCompleter(draft, collections), [draft, collections]);
  const [menu, setMenu] = useState(null); // {items, active, from, to}: the suggestions shown
  const [listId] = useState(() => nextId('rule-suggestions'));
  const area = useRef(null);
  const pre = useRef(null);
  const list = useRef(null);
  const accepting = useRef(false);
  const tokens = useMemo(() => tokenize(value), [value]);

  useLayoutEffect(() => fitHeight(area.current), [value]);
  useEffect(() => {
    const refit = () => fitHeight(area.current);
    window.addEventListener('resize', refit);
    return () => window.removeEventListener('resize', refit);
  }, []);
  // The list opens under the word being completed, and keeps its active item in view.
  useLayoutEffect(() => {
    if (!menu || !list.current) return;
    placeUnder(list.current, pre.current, menu.from);
    document.getElementById(`${listId}-${menu.active}`)?.scrollIntoView({ block: 'nearest' });
  }, [menu, value]);

  /** Suggestions for the word at the caret; `explicit` (Ctrl+Space) also with nothing typed. */
  function refresh(explicit = false) {
    const el = area.current;
    const at = el.selectionStart === el.selectionEnd ? wordAt(el.value, el.selectionStart) : null;
    const items = at && (at.word || explicit) ? suggest(at.word) : [];
    setMenu(items.length ? { items, active: 0, from: at.from, to: at.to } : null);
  }

  function accept(item) {
    const el = area.current;
    el.focus();
    el.setSelectionRange(menu.from, menu.to);
    accepting.current = true;
    // insertText keeps the browser's undo history, and fires "input" as typing does.
    if (!document.execCommand('insertText', false, item.label)) {
      el.setRangeText(item.label, menu.from, menu.to, 'end');
      el.dispatchEvent(new Event('input', { bubbles: true }));
    }
    accepting.current = false;
    if (item.container) refresh(); // "@request." goes on with what follows it
    else setMenu(null);
  }

  function onKeyDown(e) {
    if (!menu) {
      if ((e.key === ' ' && e.ctrlKey) || (e.key === 'ArrowDown' && e.altKey)) {
        e.preventDefault();
        refresh(true);
      }
      return;
    }
    const count = menu.items.length;
    const move = (by) => setMenu({ ...menu, active: (menu.active + by + count) % count });
    if (e.key === 'ArrowDown') move(1);
    else if (e.key === 'ArrowUp') move(-1);
    else if (e.key === 'Enter' || (e.key === 'Tab' && !e.shiftKey)) accept(menu.items[menu.active]);
    else if (e.key === 'Escape') setMenu(null);
    else return;
    e.preventDefault();
    e.stopPropagation(); // the panel would close on Escape and move the focus on Tab
  }

  function onInput(e) {
    onChange(e.target.value);
    // Typing opens the list; deleting only narrows it when it is open.
    if (!accepting.current && (menu || e.inputType === 'insertText')) refresh();
  }

  const caretMoved = (e) => menu && ['ArrowLeft', 'ArrowRight', 'Home', 'End'].includes(e.key) && refresh();
  const active = menu ? `${listId}-${menu.active}` : undefined;
  return html`<div class=${disabled ? 'rule-editor disabled' : 'rule-editor'}>
    <pre class="rule-highlight" aria-hidden="true" ref=${pre}>${tokens.map((t) => (t.type === 'space' ? t.text : html`<span class=${`tok tok-${t.type}`}>${t.text}</span>`))}${value.endsWith('\n') ? ' ' : ''}</pre>
    <textarea id=${id} name=${name} class="mono rule-input" rows="1" spellcheck="false" autocomplete="off" autocapitalize="off" disabled=${disabled}
      ref=${(el) => {
        area.current = el;
        if (inputRef) inputRef.current = el;
      }}
      role="combobox" aria-autocomplete="list" aria-expanded=${String(!!menu)} aria-controls=${menu ? listId : undefined} aria-activedescendant=${active}
      aria-invalid=${invalid ? 'true' : undefined} aria-describedby=${describedBy}
      value=${value} placeholder=${placeholder}
      onInput=${onInput} onKeyDown=${onKeyDown} onKeyUp=${caretMoved} onClick=${() => menu && refresh()}
      onScroll=${(e) => ((pre.current.scrollTop = e.target.scrollTop), (pre.current.scrollLeft = e.target.scrollLeft))}
      onBlur=${() => (setMenu(null), onBlur?.())}></textarea>
    ${menu
      ? html`<ul id=${listId} ref=${list} class="rule-suggestions" role="listbox" aria-label=${`${label}: suggestions`}>
          ${menu.items.map(
            (item, i) => html`<li id=${`${listId}-${i}`} role="option" aria-selected=${String(i === menu.active)} class=${i === menu.active ? 'active' : ''}
              onMouseDown=${(e) => e.preventDefault()} onMouseMove=${() => i !== menu.active && setMenu({ ...menu, active: i })} onClick=${() => accept(item)}>
              <span class="suggestion-label">${item.label}</span><span class="suggestion-detail">${item.detail}</span>
            </li>`,
          )}
        </ul>`
      : null}
  </div>`;
}

/** The textarea as tall as its text (so it never scrolls away from the highlighting). */
function fitHeight(el) {
  if (!el) return;
  el.style.height = 'auto';
  el.style.height = `${el.scrollHeight + el.offsetHeight - el.clientHeight}px`;
}

/** Puts `list` under the character at `offset` of the highlighted text, within the editor. */
function placeUnder(list, pre, offset) {
  const box = pre.getBoundingClientRect();
  const at = textPoint(pre, offset) || { left: box.left, bottom: box.bottom };
  const left = Math.max(0, Math.min(at.left - box.left, box.width - list.offsetWidth));
  list.style.left = `${left}px`;
  list.style.top = `${at.bottom - box.top + 2}px`;
}

/** The screen position of the character at `offset` of `root`'s text. */
function textPoint(root, offset) {
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (offset <= node.length) {
      const range = document.createRange();
      range.setStart(node, offset);
      range.collapse(true);
      const rect = range.getClientRects()[0] || range.getBoundingClientRect();
      return rect.height ? rect : null;
    }
    offset -= node.length;
  }
  return null;
}
