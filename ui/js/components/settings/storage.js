// Settings / File storage: local disk (the default) or an S3-compatible bucket.
import { html } from '../../lib.js';
import { useSettingsForm, SettingsForm } from './form.js';
import { S3Fields } from './s3.js';

export default function Storage() {
  const form = useSettingsForm(['s3']);
  return html`<div class="card"><${SettingsForm} form=${form} id="settings-storage">
    <p class="help">Uploaded files are kept in <code>storage/</code> beside the database unless an S3 bucket is set. Files already stored are not moved when this changes.</p>
    <${S3Fields} form=${form} prefix="s3" filesystem="storage" />
  </${SettingsForm}></div>`;
}
