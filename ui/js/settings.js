// Application settings: name and URL (PATCH /api/settings {meta: {...}}).
import { h, mount, toast, nextId } from './dom.js';
import { pb, errorMessage, fieldErrors } from './api.js';

export function renderSettings(root) {
  let alive = true;
  const body = h('div.card', h('p.muted', 'Loading…'));
  mount(
    root,
    h(
      'div.page.page-narrow',
      h('header.page-header', h('div.page-title', h('span.crumb', 'Settings'), h('span.crumb-sep', '/'), h('h1', 'Application'))),
      body,
    ),
  );

  (async () => {
    let settings;
    try {
      settings = await pb.send('/api/settings', {});
    } catch (err) {
      if (alive) mount(body, h('div.form-error', { role: 'alert' }, errorMessage(err)));
      return;
    }
    if (!alive) return;
    const meta = settings.meta || {};
    const row = (key, label, type, help) => {
      const id = nextId('set');
      const input = h('input', { id, name: key, type, value: meta[key] ?? '', autocomplete: 'off', spellcheck: 'false' });
      const err = h('div.field-error', { role: 'alert', hidden: true, dataset: { errorFor: key } });
      return { key, input, err, el: h('div.field', h('label.field-label', { for: id }, label), input, help ? h('div.help', help) : null, err) };
    };
    const rows = [row('appName', 'Application name', 'text', 'Shown in emails and in the page titles.'), row('appURL', 'Application URL', 'url', 'The public address of this server, used in links of emails.')];
    const formError = h('div.form-error', { role: 'alert', hidden: true });
    const save = h('button.btn.btn-primary#settings-save', { type: 'submit' }, 'Save changes');
    const form = h(
      'form.settings-form',
      {
        novalidate: true,
        async onsubmit(e) {
          e.preventDefault();
          formError.hidden = true;
          for (const r of rows) (r.err.hidden = true), r.el.classList.remove('has-error');
          save.disabled = true;
          try {
            const patch = { meta: Object.fromEntries(rows.map((r) => [r.key, r.input.value.trim()])) };
            await pb.send('/api/settings', { method: 'PATCH', body: patch });
            toast('Settings saved.');
          } catch (err) {
            const fe = fieldErrors(err);
            const unmatched = [];
            for (const [k, m] of Object.entries(fe)) {
              const r = rows.find((x) => k === `meta.${x.key}` || k === x.key);
              if (r) {
                r.err.textContent = m;
                r.err.hidden = false;
                r.el.classList.add('has-error');
              } else unmatched.push(`${k}: ${m}`);
            }
            formError.textContent = [errorMessage(err), ...unmatched].join(' — ');
            formError.hidden = false;
          } finally {
            save.disabled = false;
          }
        },
      },
      rows.map((r) => r.el),
      formError,
      h('div.form-actions', save),
    );
    mount(body, form);
  })();

  return () => {
    alive = false;
  };
}
