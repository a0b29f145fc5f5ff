// Record form inputs generated from a collection's field definitions.
import { h, nextId } from './dom.js';

/** Fields that get an input in the record form (system-managed ones are skipped). */
export function formFields(collection, { isNew = true } = {}) {
  return (collection.fields || []).filter((f) => {
    if (!isNew && f.name === 'id') return false; // shown in the record's meta block
    if (f.type === 'autodate') return false;
    if (f.type === 'password') return false; // handled separately (auth collections)
    if (collection.type === 'auth' && f.name === 'tokenKey') return false;
    return true;
  });
}

/** Fields shown as table columns. */
export function tableFields(collection) {
  const fields = (collection.fields || []).filter((f) => f.type !== 'password' && !(collection.type === 'auth' && f.name === 'tokenKey'));
  const id = fields.filter((f) => f.name === 'id');
  const auto = fields.filter((f) => f.type === 'autodate');
  const rest = fields.filter((f) => f.name !== 'id' && f.type !== 'autodate');
  return [...id, ...rest, ...auto];
}

const multi = (f) => (f.maxSelect || 0) > 1;

// PocketBase datetimes are "YYYY-MM-DD HH:MM:SS.sssZ" (UTC); <input type=datetime-local> wants "YYYY-MM-DDTHH:MM:SS".
export function toLocalInput(v) {
  if (!v) return '';
  const m = String(v).match(/^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}(?::\d{2})?)/);
  return m ? `${m[1]}T${m[2].length === 5 ? m[2] + ':00' : m[2]}` : '';
}

export function fromLocalInput(v) {
  if (!v) return '';
  const [d, t = '00:00:00'] = v.split('T');
  return `${d} ${t.length === 5 ? t + ':00' : t}.000Z`;
}

export class FieldError extends Error {}

/**
 * Builds the input of one field. Returns {name, wrap, get(), setError(msg)}.
 * get() returns the value to send or `undefined` to leave the field out; it may throw FieldError.
 */
export function fieldInput(field, value, { isNew, readOnly, collections = [] }) {
  const id = nextId('field');
  const errorEl = h('div.field-error', { role: 'alert', hidden: true, dataset: { errorFor: field.name } });
  let input;
  let get;
  let hint = '';
  let inline = false;
  const disabled = readOnly || undefined;

  switch (field.type) {
    case 'bool': {
      input = h('input', { id, type: 'checkbox', name: field.name, checked: !!value, disabled });
      get = () => input.checked;
      inline = true;
      break;
    }
    case 'number': {
      input = h('input', { id, type: 'number', name: field.name, step: field.onlyInt ? '1' : 'any', value: value ?? '', disabled, min: field.min ?? undefined, max: field.max ?? undefined });
      get = () => (input.value === '' ? null : Number(input.value));
      break;
    }
    case 'email':
      input = h('input', { id, type: 'email', name: field.name, value: value ?? '', disabled, autocomplete: 'off' });
      get = () => input.value.trim();
      break;
    case 'url':
      input = h('input', { id, type: 'url', name: field.name, value: value ?? '', disabled, placeholder: 'https://…' });
      get = () => input.value.trim();
      break;
    case 'date': {
      input = h('input', { id, type: 'datetime-local', step: '1', name: field.name, value: toLocalInput(value), disabled });
      get = () => fromLocalInput(input.value);
      hint = 'UTC';
      break;
    }
    case 'select': {
      const values = field.values || [];
      if (multi(field)) {
        const current = new Set(Array.isArray(value) ? value : value ? [value] : []);
        const boxes = values.map((v) => h('input', { type: 'checkbox', value: v, checked: current.has(v), disabled }));
        input = h('div.choice-group', { id, role: 'group', dataset: { name: field.name } }, values.map((v, i) => h('label.choice', boxes[i], h('span', v))));
        get = () => boxes.filter((b) => b.checked).map((b) => b.value);
        hint = `up to ${field.maxSelect}`;
      } else {
        input = h('select', { id, name: field.name, disabled }, h('option', { value: '' }, '— none —'), values.map((v) => h('option', { value: v }, v)));
        input.value = (Array.isArray(value) ? value[0] : value) || '';
        get = () => input.value;
      }
      break;
    }
    case 'relation': {
      const target = collections.find((c) => c.id === field.collectionId);
      const ids = Array.isArray(value) ? value : value ? [value] : [];
      input = h('input', {
        id,
        type: 'text',
        name: field.name,
        value: ids.join(', '),
        disabled,
        placeholder: multi(field) ? 'record ids, comma separated' : 'record id',
        spellcheck: 'false',
      });
      get = () => {
        const list = input.value.split(/[\s,]+/).filter(Boolean);
        return multi(field) ? list : list[0] || '';
      };
      hint = `→ ${target ? target.name : field.collectionId}`;
      break;
    }
    case 'json': {
      const text = value === undefined || value === null ? '' : JSON.stringify(value, null, 2);
      input = h('textarea.mono', { id, name: field.name, rows: 5, disabled, spellcheck: 'false' });
      input.value = text;
      get = () => {
        const t = input.value.trim();
        if (!t) return null;
        try {
          return JSON.parse(t);
        } catch {
          throw new FieldError('Invalid JSON.');
        }
      };
      break;
    }
    case 'editor': {
      input = h('textarea', { id, name: field.name, rows: 7, disabled });
      input.value = value ?? '';
      get = () => input.value;
      hint = 'HTML';
      break;
    }
    case 'file': {
      const names = Array.isArray(value) ? value : value ? [value] : [];
      input = h('div.readonly-box', { id }, names.length ? names.join(', ') : h('span.muted', 'No files'));
      get = () => undefined;
      hint = 'uploads are not supported in this dashboard';
      break;
    }
    case 'geoPoint': {
      const v = value && typeof value === 'object' ? value : { lon: 0, lat: 0 };
      const lon = h('input', { type: 'number', step: 'any', value: v.lon ?? 0, disabled, 'aria-label': `${field.name} longitude` });
      const lat = h('input', { type: 'number', step: 'any', value: v.lat ?? 0, disabled, 'aria-label': `${field.name} latitude` });
      input = h('div.inline-inputs', { id }, h('label.sub', 'lon', lon), h('label.sub', 'lat', lat));
      get = () => ({ lon: Number(lon.value || 0), lat: Number(lat.value || 0) });
      break;
    }
    default: {
      // text and unknown types
      const isId = field.name === 'id' && field.primaryKey !== false;
      input = h('input', {
        id,
        type: 'text',
        name: field.name,
        value: value ?? '',
        disabled: disabled || (isId && !isNew) || undefined,
        placeholder: isId && isNew ? 'Leave empty to auto generate' : undefined,
        spellcheck: isId ? 'false' : undefined,
        autocomplete: 'off',
      });
      get = () => (isId && (!isNew || input.value === '') ? undefined : input.value);
      if (isId && !isNew) hint = 'read only';
    }
  }

  const label = h(
    'label.field-label',
    { for: id },
    h('span.field-type', { title: field.type }, typeIcon(field.type)),
    h('span', field.name),
    field.required && !(field.name === 'id' && isNew) ? h('span.required', { title: 'required' }, '*') : null,
    hint ? h('span.field-hint', hint) : null,
  );
  const wrap = inline
    ? h('div.field.field-inline', { dataset: { field: field.name } }, input, label, errorEl)
    : h('div.field', { dataset: { field: field.name } }, label, input, field.help ? h('div.help', field.help) : null, errorEl);

  return {
    name: field.name,
    wrap,
    get,
    setError(msg) {
      errorEl.textContent = msg || '';
      errorEl.hidden = !msg;
      wrap.classList.toggle('has-error', !!msg);
    },
  };
}

export function typeIcon(type) {
  return (
    {
      text: 'T',
      number: '#',
      bool: '◩',
      email: '@',
      url: '↗',
      date: '◷',
      autodate: '◔',
      select: '☰',
      relation: '⇄',
      json: '{}',
      editor: '¶',
      file: '⊡',
      password: '⚷',
      geoPoint: '⊕',
    }[type] || '•'
  );
}
