// An OAuth2 provider's logo, shown beside its name (so it is decorative: hidden from assistive
// technology). Loaded with the auth options tab. The icons are vendored (simple-icons, see
// ui/vendor.sh): nothing is fetched.
import { html } from '../lib.js';
import ICONS from '../../vendor/provider-logos.mjs';

/** Relative luminance of a `RRGGBB` colour (WCAG's formula). */
function luminance(hex) {
  const [r, g, b] = [0, 2, 4].map((i) => {
    const c = parseInt(hex.slice(i, i + 2), 16) / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

/**
 * The logo of `provider` ({name, displayName, logo}): the server's own when it sends SVG markup
 * (PocketBase does; oxbase sends ''), as an image, which runs and loads nothing; else the
 * vendored icon in its brand colour (a light one on a dark tile); else a letter badge. The
 * letter is CSS content, so that an <option> holding the logo keeps the name as its text.
 */
export function ProviderLogo({ provider }) {
  const served = String(provider.logo || '').trim();
  if (served.startsWith('<svg')) {
    return html`<img class="provider-logo" alt="" aria-hidden="true" src=${`data:image/svg+xml,${encodeURIComponent(served)}`} />`;
  }
  const icon = Object.hasOwn(ICONS, provider.name) && ICONS[provider.name];
  if (icon) {
    const [hex, d] = icon;
    return html`<svg class=${luminance(hex) > 0.5 ? 'provider-logo on-dark' : 'provider-logo'} viewBox="-3 -3 30 30" aria-hidden="true" focusable="false">
      <path fill=${`#${hex}`} d=${d} />
    </svg>`;
  }
  const letter = (provider.displayName || provider.name || '?').trim().charAt(0).toUpperCase();
  return html`<span class="provider-logo provider-letter" data-letter=${letter} aria-hidden="true"></span>`;
}
