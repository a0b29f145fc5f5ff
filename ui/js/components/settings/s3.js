// The S3 connection options (file storage and backups share them) and the test button:
// POST /api/settings/test/s3 {filesystem} checks the saved settings by writing, reading and
// deleting a probe file.
import { html, useState } from '../../lib.js';
import { pb, errorMessage } from '../../api.js';
import { Text, Toggle, getPath } from './form.js';

export function S3Fields({ form, prefix, filesystem }) {
  const [test, setTest] = useState(null); // null | 'busy' | {ok, message}
  const on = !!form.get(`${prefix}.enabled`);
  async function run() {
    setTest('busy');
    try {
      await pb.send('/api/settings/test/s3', { method: 'POST', body: { filesystem } });
      setTest({ ok: true, message: 'S3 connection succeeded.' });
    } catch (err) {
      setTest({ ok: false, message: errorMessage(err) });
    }
  }
  const savedOn = !!getPath(form.saved, `${prefix}.enabled`);
  return html`<div class="s3-fields" data-filesystem=${filesystem}>
    <${Toggle} form=${form} path=${`${prefix}.enabled`} label="Use S3 storage" />
    ${on
      ? html`<div class="grid-2">
            <${Text} form=${form} path=${`${prefix}.endpoint`} label="Endpoint" type="url" placeholder="https://s3.example.com" />
            <${Text} form=${form} path=${`${prefix}.bucket`} label="Bucket" />
            <${Text} form=${form} path=${`${prefix}.region`} label="Region" />
            <${Text} form=${form} path=${`${prefix}.accessKey`} label="Access key" />
            <${Text} form=${form} path=${`${prefix}.secret`} label="Secret" type="password" placeholder="unchanged" />
          </div>
          <${Toggle} form=${form} path=${`${prefix}.forcePathStyle`} label="Force path-style addressing" help="For S3-compatible servers without virtual-hosted buckets (MinIO...)." />`
      : null}
    <div class="inline-actions">
      <button type="button" class="btn btn-secondary btn-small s3-test" disabled=${test === 'busy' || !savedOn || form.dirty}
        title=${!savedOn ? 'Save S3 settings first' : form.dirty ? 'Save your changes first' : ''} onClick=${run}>${test === 'busy' ? 'Testing…' : 'Test S3 connection'}</button>
      ${test && test !== 'busy' ? html`<span class=${test.ok ? 'test-result ok' : 'test-result fail'} role="status">${test.message}</span>` : null}
    </div>
  </div>`;
}
