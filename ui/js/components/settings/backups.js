// Settings / Backups: the stored backups (create, download, upload, restore, delete) and the
// options: the schedule of automatic backups, how many of them to keep, and where they go.
import { html, useState, useEffect, useRef } from '../../lib.js';
import { pb, errorMessage, fieldErrors } from '../../api.js';
import { confirmDialog, openDialog, toast, DialogActions, bodyRows } from '../overlays.js';
import { useSettingsForm, SettingsForm, Text, Num, Group, formatBytes } from './form.js';
import { S3Fields } from './s3.js';

const CRON_PRESETS = [
  ['0 0 * * *', 'Every day at 00:00'],
  ['0 0 * * 0', 'Every Sunday at 00:00'],
  ['0 0 * * 0,3', 'Every Wednesday and Sunday at 00:00'],
  ['0 0 1 * *', 'Every first day of the month at 00:00'],
];

export default function Backups() {
  const [items, setItems] = useState(null);
  const [error, setError] = useState('');
  const [busy, setBusy] = useState('');
  const upload = useRef();
  const reload = async () => {
    try {
      setItems(await pb.backups.getFullList());
      setError('');
    } catch (err) {
      setError(errorMessage(err));
    }
  };
  useEffect(() => void reload(), []);

  async function act(label, fn, done) {
    setBusy(label);
    try {
      await fn();
      if (done) toast(done);
    } catch (err) {
      toast(errorMessage(err), 'error');
    } finally {
      setBusy('');
      reload();
    }
  }
  async function download(key) {
    try {
      const token = await pb.files.getToken();
      const a = document.createElement('a');
      a.href = pb.backups.getDownloadURL(token, key);
      a.download = key;
      document.body.append(a);
      a.click();
      a.remove();
    } catch (err) {
      toast(errorMessage(err), 'error');
    }
  }
  async function restore(key) {
    if (!(await confirmRestore(key))) return;
    setBusy('restore');
    try {
      await pb.backups.restore(key);
      toast('Restoring… the page reloads when the server is back.');
      await waitForServer();
      location.reload();
    } catch (err) {
      toast(errorMessage(err), 'error');
      setBusy('');
    }
  }
  async function remove(key) {
    if (await confirmDialog(`Delete the backup "${key}"?`, { confirmText: 'Delete' })) act('delete', () => pb.backups.delete(key), 'Backup deleted.');
  }
  function onUpload(e) {
    const file = e.target.files?.[0];
    e.target.value = '';
    if (file) act('upload', () => pb.backups.upload({ file }), 'Backup uploaded.');
  }

  return html`<div class="stack">
    <div class="card">
      <div class="card-head">
        <h2 class="card-title">Stored backups</h2>
        <div class="inline-actions">
          <button type="button" class="btn btn-secondary" id="backup-upload" disabled=${!!busy} onClick=${() => upload.current.click()}>⇪ Upload</button>
          <input type="file" accept=".zip,application/zip" hidden ref=${upload} name="backup-file" onChange=${onUpload} />
          <button type="button" class="btn btn-primary" id="backup-create" disabled=${!!busy} onClick=${() => openCreate(() => reload())}>+ New backup</button>
        </div>
      </div>
      ${error ? html`<div class="form-error" role="alert">${error}</div>` : null}
      ${busy ? html`<p class="muted" role="status">${busy === 'restore' ? 'Restoring…' : 'Working…'}</p>` : null}
      <div class="table-scroll"><table class="plain-table backups-table">
        <thead><tr><th>Name</th><th>Size</th><th>Modified</th><th><span class="sr-only">Actions</span></th></tr></thead>
        <tbody>
          ${bodyRows(
            items,
            4,
            'No backups yet.',
            (b) => html`<tr key=${b.key} class="backup-row" data-key=${b.key}>
                    <td class="mono">${b.key}</td>
                    <td>${formatBytes(b.size)}</td>
                    <td>${b.modified}</td>
                    <td class="row-actions">
                      <button type="button" class="btn btn-ghost btn-small backup-download" onClick=${() => download(b.key)}>Download</button>
                      <button type="button" class="btn btn-ghost btn-small backup-restore" disabled=${!!busy} onClick=${() => restore(b.key)}>Restore</button>
                      <button type="button" class="btn btn-danger-ghost btn-small backup-delete" disabled=${!!busy} onClick=${() => remove(b.key)}>Delete</button>
                    </td>
                  </tr>`,
                )}
        </tbody>
      </table></div>
    </div>
    <div class="card"><${BackupOptions} /></div>
  </div>`;
}

function BackupOptions() {
  const form = useSettingsForm(['backups']);
  const cron = form.get('backups.cron') || '';
  return html`<${SettingsForm} form=${form} id="settings-backups">
    <h2 class="card-title">Automatic backups</h2>
    <div class="grid-2">
      <div>
        <${Text} form=${form} path="backups.cron" label="Schedule (cron expression, UTC)" placeholder="empty: no automatic backups" help="Minute hour day-of-month month day-of-week." />
        <div class="chips presets">
          ${CRON_PRESETS.map(([v, l]) => html`<button type="button" class=${cron === v ? 'chip chip-btn active' : 'chip chip-btn'} title=${v} onClick=${() => form.set('backups.cron', v)}>${l}</button>`)}
        </div>
      </div>
      <${Num} form=${form} path="backups.cronMaxKeep" label="Automatic backups to keep" min="1" />
    </div>
    <${Group} title="Store backups in S3" open=${!!form.saved?.backups?.s3?.enabled}>
      <${S3Fields} form=${form} prefix="backups.s3" filesystem="backups" />
    </${Group}>
  </${SettingsForm}>`;
}

function openCreate(done) {
  openDialog('New backup', (close) => html`<${CreateBackup} close=${close} done=${done} />`);
}

function CreateBackup({ close, done }) {
  const [name, setName] = useState('');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  async function submit(e) {
    e.preventDefault();
    setBusy(true);
    setError('');
    try {
      const n = name.trim();
      await pb.backups.create(n && !n.endsWith('.zip') ? `${n}.zip` : n);
      toast('Backup created.');
      close();
      done();
    } catch (err) {
      setError(fieldErrors(err).name || errorMessage(err));
      setBusy(false);
    }
  }
  return html`<form class="dialog-form" id="backup-create-form" novalidate onSubmit=${submit}>
    <div class=${error ? 'field has-error' : 'field'}>
      <label class="field-label" for="backup-name">Name <span class="field-hint">optional</span></label>
      <input id="backup-name" name="name" placeholder="leave empty for a generated name" value=${name} onInput=${(e) => setName(e.target.value)} ref=${(el) => el && !el.dataset.f && ((el.dataset.f = 1), el.focus())} />
      <div class="help">Lowercase letters, digits, <code>_</code> and <code>-</code>; <code>.zip</code> is added.</div>
    </div>
    <${DialogActions} close=${close} error=${error} busy=${busy} id="backup-create-submit" label="Create" busyLabel="Creating…" />
  </form>`;
}

/** The restore dialog: resolves true once the backup's name was typed and confirmed. */
function confirmRestore(key) {
  return new Promise((resolve) => {
    let answered = false;
    const done = (v, close) => {
      answered = true;
      close();
      resolve(v);
    };
    openDialog(`Restore ${key}`, (close) => html`<${RestoreBackup} name=${key} confirm=${() => done(true, close)} cancel=${() => done(false, close)} />`, () => answered || resolve(false));
  });
}

function RestoreBackup({ name, confirm, cancel }) {
  const [typed, setTyped] = useState('');
  return html`<form class="dialog-form" id="backup-restore-form" novalidate onSubmit=${(e) => (e.preventDefault(), typed === name && confirm())}>
    <p class="help">The current data, files and settings are replaced by the backup's, and the server restarts on them; requests wait meanwhile. Superusers and their sessions are the backup's.</p>
    <div class="field">
      <label class="field-label" for="backup-restore-name">Type <code>${name}</code> to confirm</label>
      <input id="backup-restore-name" autocomplete="off" spellcheck="false" value=${typed} onInput=${(e) => setTyped(e.target.value)} ref=${(el) => el && !el.dataset.f && ((el.dataset.f = 1), el.focus())} />
    </div>
    <div class="modal-actions">
      <button type="button" class="btn btn-secondary" onClick=${cancel}>Cancel</button>
      <button type="submit" class="btn btn-danger" id="backup-restore-submit" disabled=${typed !== name}>Restore</button>
    </div>
  </form>`;
}

/** Waits (at most a minute) until the server answers its health check again. */
async function waitForServer() {
  await new Promise((r) => setTimeout(r, 500));
  for (let i = 0; i < 120; i++) {
    try {
      const r = await fetch('/api/health', { cache: 'no-store' });
      if (r.ok) return;
    } catch {}
    await new Promise((r) => setTimeout(r, 500));
  }
}
