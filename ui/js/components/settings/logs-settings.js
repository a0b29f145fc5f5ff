// What the request logs keep (the `logs` settings): in Settings / Application, and as a panel
// of the logs page.
import { html } from '../../lib.js';
import { Panel } from '../overlays.js';
import { useSettingsForm, SettingsForm, Num, Toggle, Choice } from './form.js';

const LOG_LEVELS = [
  [-4, 'DEBUG (-4)'],
  [0, 'INFO (0)'],
  [4, 'WARN (4)'],
  [8, 'ERROR (8)'],
];

/** The `logs` inputs of a settings form that edits the `logs` section. */
export function LogsFields({ form }) {
  return html`<div class="grid-2">
      <${Num} form=${form} path="logs.maxDays" label="Keep logs for (days, 0: no logs)" />
      <${Choice} form=${form} path="logs.minLevel" label="Minimum level" options=${LOG_LEVELS} />
    </div>
    <${Toggle} form=${form} path="logs.logIP" label="Log the client IP" />
    <${Toggle} form=${form} path="logs.logAuthId" label="Log the authenticated record's id" />`;
}

/** The logs page's settings panel: the `logs` section alone, saved in place. */
export function LogsSettingsPanel({ close }) {
  const form = useSettingsForm(['logs']);
  return html`<${Panel} title="Logs settings" onClose=${close}>
    <${SettingsForm} form=${form} id="logs-settings-form">
      <${LogsFields} form=${form} />
    </${SettingsForm}>
  </${Panel}>`;
}
