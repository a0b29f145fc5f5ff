// Browser test of the OAuth2 provider logos (auth options tab) and the geoPoint map (record
// form): both load only with their screen, fetch nothing from anywhere but the server, pass
// axe-core, and the map picks a point by click, keyboard and touch. Env: see harness.mjs.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, stopServer, superuserApi, screenshot, launchBrowser, loginIfNeeded, axeViolations } from './harness.mjs';
import { viewOf, pickDecimals, keyStep } from '../../ui/js/components/geo-map.js';

// The providers simple-icons has no icon for (ui/vendor.sh's NO_ICON): a letter badge.
const NO_ICON = new Set(['lark', 'mailcow', 'microsoft', 'monday', 'planningcenter', 'yandex']);

let server;
let api;
let browser;
const elsewhere = []; // requests to anything but the server

before(async () => {
  server = await startServer();
  ({ api } = await superuserApi(server));
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close().catch(() => {});
  await stopServer(server);
});

/** Opens a collection's records page, signed in, once its first load has settled. */
async function openCollection(page, name) {
  await page.goto(`${server.url}/_/#/collections/${name}`);
  await loginIfNeeded(page);
  await page.locator('.records-table').waitFor();
  await page.waitForLoadState('networkidle');
}

/** A browser context that records every request and the page errors. */
async function newContext(options = {}) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, reducedMotion: 'reduce', ...options });
  context.setDefaultTimeout(10_000);
  const requested = [];
  context.on('request', (r) => {
    const url = r.url();
    if (url.startsWith(server.url + '/')) requested.push(url.slice(server.url.length));
    else if (!/^(data|blob|about):/.test(url)) elsewhere.push(url);
  });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  return { context, page, requested, errors };
}

const loaded = (requested, file) => requested.some((u) => u.split('?')[0].endsWith(file));

async function scan(p, name) {
  const found = await axeViolations(p);
  if (found.length) await screenshot(p, `a11y-${name}`);
  assert.deepEqual(found, [], JSON.stringify(found, null, 2));
}

test('auth options: a logo beside each provider, in the list and in the picker; nothing fetched elsewhere', { timeout: 90_000 }, async () => {
  // What `logo` holds: '' here (PocketBase sends each provider's SVG markup).
  const listed = (await api('/api/collections/meta/oauth2-providers')).json;
  assert.ok(listed.length >= 30, `providers listed: ${listed.length}`);
  assert.ok(listed.every((p) => p.name && p.displayName && p.logo === ''), JSON.stringify(listed.slice(0, 3)));
  const r = await api('/api/collections/users', {
    method: 'PATCH',
    body: { oauth2: { enabled: true, providers: ['google', 'microsoft', 'kakao'].map((name) => ({ name, clientId: `${name}-id`, clientSecret: 'secret' })) } },
  });
  assert.equal(r.status, 200, JSON.stringify(r.json));

  const { context, page, requested, errors } = await newContext();
  try {
    await openCollection(page, 'users');
    assert.ok(!loaded(requested, 'provider-logos.mjs') && !loaded(requested, 'provider-logo.js'), 'no logos before the options tab');

    await page.locator('#edit-collection').click();
    await page.locator('button.tab[data-tab="options"]').click();
    const group = page.locator('.settings-group[data-group="oauth2"]');
    await group.locator('.oauth2-provider').first().waitFor();
    assert.ok(loaded(requested, 'provider-logos.mjs'), 'the logos load with the options tab');

    // The configured providers: a decorative logo in each legend, beside the name.
    for (const [name, shown, kind] of [['google', 'Google', 'svg'], ['microsoft', 'Microsoft', 'span'], ['kakao', 'Kakao', 'svg']]) {
      const legend = group.locator(`.oauth2-provider[data-provider="${name}"] legend`);
      // The display names come with the providers' list, loaded beside the tab.
      await legend.filter({ hasText: new RegExp(`^${shown}$`) }).waitFor();
      assert.equal(await legend.innerText(), shown);
      const logo = legend.locator('.provider-logo');
      assert.equal(await logo.count(), 1, name);
      assert.equal(await logo.evaluate((el) => el.tagName.toLowerCase()), kind, name);
      assert.equal(await logo.getAttribute('aria-hidden'), 'true', name);
    }
    assert.equal(await group.locator('.oauth2-provider[data-provider="microsoft"] .provider-logo').getAttribute('data-letter'), 'M');

    // The picker: every provider not yet added, each option with its logo and its name as its text.
    const options = await page.locator('#oauth2-add-provider option').evaluateAll((els) =>
      els.filter((o) => o.value).map((o) => {
        const logo = o.querySelector('.provider-logo');
        return { name: o.value, text: o.textContent.trim(), label: o.label, tag: logo?.tagName.toLowerCase(), hidden: logo?.getAttribute('aria-hidden'), path: !!logo?.querySelector('path[d]') };
      }),
    );
    assert.equal(options.length, listed.length - 3);
    for (const o of options) {
      const p = listed.find((x) => x.name === o.name);
      assert.ok(o.text.startsWith(p.displayName), `${o.name}: the name is the option's text (${o.text})`);
      assert.equal(o.hidden, 'true', `${o.name}: decorative`);
      if (NO_ICON.has(o.name)) assert.equal(o.tag, 'span', `${o.name}: a letter badge`);
      else assert.ok(o.tag === 'svg' && o.path, `${o.name}: an icon`);
    }
    assert.equal(options.filter((o) => o.tag === 'svg').length, listed.length - 3 - [...NO_ICON].filter((n) => n !== 'microsoft').length);

    // Picked with the keyboard: focus, open, type ahead, Enter; the chosen logo shows in the select.
    await page.locator('#oauth2-add-provider').focus();
    await page.keyboard.press('Enter');
    await page.waitForTimeout(100);
    await screenshot(page, 'geo-logos-picker-open');
    await scan(page, 'provider-picker-open');
    await page.keyboard.type('GitH');
    await page.keyboard.press('Enter');
    assert.equal(await page.locator('#oauth2-add-provider').inputValue(), 'github');
    if (await page.evaluate(() => CSS.supports('appearance', 'base-select'))) {
      assert.equal(await page.locator('#oauth2-add-provider selectedcontent svg.provider-logo').count(), 1);
    }
    await page.locator('#oauth2-add').click();
    assert.equal(await page.locator('#oauth2-add-provider').inputValue(), '', 'the picker is reset');
    assert.equal(await page.locator('#oauth2-add-provider option[value="github"]').count(), 0, 'an added provider leaves the picker');
    const added = group.locator('.oauth2-provider[data-provider="github"]');
    await added.locator('legend svg.provider-logo').waitFor();
    await added.locator('[data-path="oauth2.providers.3.clientId"]').fill('gh-id');
    await added.locator('[data-path="oauth2.providers.3.clientSecret"]').fill('gh-secret');
    await page.evaluate(() => document.querySelectorAll('.auth-options details').forEach((d) => (d.open = true)));
    await group.scrollIntoViewIfNeeded();
    await screenshot(page, 'geo-logos-providers');
    await scan(page, 'auth-options-providers');

    await page.locator('#collection-save').click();
    await page.locator('.panel').waitFor({ state: 'detached' });
    const users = (await api('/api/collections/users')).json;
    assert.deepEqual(users.oauth2.providers.map((p) => p.name), ['google', 'microsoft', 'kakao', 'github']);
    assert.equal(users.oauth2.providers[3].clientId, 'gh-id');
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
  assert.deepEqual(elsewhere, [], 'requests went only to the server');
});

test('geo map helpers: the view stays on the world, steps and decimals follow the zoom', () => {
  assert.deepEqual(viewOf(1, 12.5, 41.9), { x: -180, y: -90, w: 360, h: 180 });
  assert.deepEqual(viewOf(4, 10, -20), { x: -35, y: -2.5, w: 90, h: 45 });
  assert.deepEqual(viewOf(4, 170, 85), { x: 90, y: -90, w: 90, h: 45 }, 'clamped at the edges');
  assert.deepEqual([1, 2, 4, 16, 32, 64].map(keyStep), [1, 1, 0.1, 0.1, 0.01, 0.01]);
  assert.deepEqual([0.75, 0.09, 0.0004, 1e-9].map(pickDecimals), [1, 2, 4, 6]);
});

/** The map's screen point of (lon, lat) at zoom 1 (the whole world in view). */
async function worldPoint(svg, lon, lat) {
  const b = await svg.evaluate((el) => {
    const r = el.getBoundingClientRect();
    const s = getComputedStyle(el);
    const bw = parseFloat(s.borderLeftWidth);
    return { x: r.x + bw, y: r.y + bw, w: r.width - 2 * bw, h: r.height - 2 * bw };
  });
  return { x: b.x + ((lon + 180) / 360) * b.w, y: b.y + ((90 - lat) / 180) * b.h };
}

const coords = async (form) => [Number(await form.locator('[name="place.lon"]').inputValue()), Number(await form.locator('[name="place.lat"]').inputValue())];
const near = (got, want, tol, what) => assert.ok(Math.abs(got - want) <= tol, `${what}: ${got}, expected ${want} ± ${tol}`);
const markerAt = (svg) => svg.locator('.geo-marker').getAttribute('transform');

test('geoPoint map: click, keyboard, zoom and typed values; saved and read back', { timeout: 90_000 }, async () => {
  const c = await api('/api/collections', {
    method: 'POST',
    body: { name: 'geo_places', type: 'base', fields: [{ name: 'title', type: 'text' }, { name: 'data', type: 'json' }, { name: 'place', type: 'geoPoint' }] },
  });
  assert.equal(c.status, 200, JSON.stringify(c.json));
  const { context, page, requested, errors } = await newContext();
  try {
    await openCollection(page, 'geo_places');
    assert.ok(!loaded(requested, 'geo-map.js') && !loaded(requested, 'world-land.mjs'), 'no map in the first load');

    await page.locator('#new-record').click();
    const form = page.locator('#record-form');
    await form.locator('[name="title"]').fill('Rome');
    const svg = form.locator('[data-field="place"] .geo-map svg');
    await svg.waitFor();
    assert.ok(loaded(requested, 'world-land.mjs'), 'the outline loads with the geoPoint editor');
    assert.equal(await svg.getAttribute('role'), 'application');
    assert.equal(await svg.getAttribute('aria-label'), 'place map');
    assert.equal(await svg.getAttribute('tabindex'), '0');
    assert.match(await page.locator(`#${await svg.getAttribute('aria-describedby')}`).innerText(), /arrow keys/);
    assert.equal(await markerAt(svg), 'translate(0 0)', 'an empty value is 0, 0');

    // A click picks the point under it (one decimal at this scale: within a pixel).
    const rome = await worldPoint(svg, 12.5, 41.9);
    await page.mouse.click(rome.x, rome.y);
    let [lon, lat] = await coords(form);
    near(lon, 12.5, 1, 'longitude');
    near(lat, 41.9, 1, 'latitude');
    assert.match(String(lon) + String(lat), /^-?\d+(\.\d)?-?\d+(\.\d)?$/, `rounded: ${lon}, ${lat}`);
    assert.equal(await markerAt(svg), `translate(${lon} ${-lat})`);
    await screenshot(page, 'geo-map-click');

    // The map has the focus after the click: arrow keys move the point (Shift: 10 times).
    assert.ok(await svg.evaluate((el) => el === document.activeElement), 'the map is focused');
    await page.keyboard.press('ArrowRight');
    await page.keyboard.press('ArrowRight');
    await page.keyboard.press('ArrowUp');
    await page.keyboard.press('Shift+ArrowDown');
    const round = (v) => Number(v.toFixed(6));
    assert.deepEqual(await coords(form), [round(lon + 2), round(lat + 1 - 10)]);
    [lon, lat] = await coords(form);
    await form.locator('[data-field="place"] .geo-map [aria-live]', { hasText: `Longitude ${lon}, latitude ${lat}` }).waitFor();

    // Zoom around the marker; the step gets finer; the view follows a typed value.
    await form.getByRole('button', { name: 'Zoom in' }).click();
    await form.getByRole('button', { name: 'Zoom in' }).click();
    assert.equal(await svg.getAttribute('data-zoom'), '4');
    const [vx, vy, vw, vh] = (await svg.getAttribute('viewBox')).split(' ').map(Number);
    assert.equal(vw, 90);
    near(vx + vw / 2, lon, 0.001, 'centred on the longitude');
    near(-(vy + vh / 2), lat, 0.001, 'centred on the latitude');
    await svg.focus();
    await page.keyboard.press('ArrowLeft');
    await page.keyboard.press('+');
    assert.equal(await svg.getAttribute('data-zoom'), '8');
    assert.deepEqual(await coords(form), [round(lon - 0.1), lat]);
    await form.locator('[name="place.lon"]').fill('-70.65');
    await form.locator('[name="place.lat"]').fill('-33.45');
    assert.equal(await markerAt(svg), 'translate(-70.65 33.45)');
    await page.waitForFunction((el) => {
      const [x, y, w, h] = el.getAttribute('viewBox').split(' ').map(Number);
      return x <= -70.65 && -70.65 <= x + w && y <= 33.45 && 33.45 <= y + h;
    }, await svg.elementHandle());
    // Out of range: no marker, and the form says why.
    await form.locator('[name="place.lat"]').fill('95');
    await svg.locator('.geo-marker').waitFor({ state: 'detached' });
    await form.getByRole('button', { name: 'Zoom out' }).click();
    await form.locator('[name="place.lat"]').fill('-33.45');
    await svg.locator('.geo-marker').waitFor();
    await screenshot(page, 'geo-map-zoomed');
    await scan(page, 'geo-map');

    // Back to the world, a last click, saved and read back.
    for (let i = 0; i < 3; i++) await svg.press('-');
    assert.equal(await svg.getAttribute('data-zoom'), '1');
    const paris = await worldPoint(svg, 2.35, 48.85);
    await page.mouse.click(paris.x, paris.y);
    await page.keyboard.press('Shift+ArrowRight');
    [lon, lat] = await coords(form);
    near(lon, 12.35, 1, 'longitude');
    near(lat, 48.85, 1, 'latitude');
    await page.locator('#record-save').click();
    await page.locator('.panel').waitFor({ state: 'detached' });
    const rec = (await api('/api/collections/geo_places/records')).json.items[0];
    assert.deepEqual(rec.place, { lon, lat });

    // Opened again: the inputs and the marker show the stored point.
    await page.locator('td[data-field="title"]', { hasText: 'Rome' }).click();
    assert.deepEqual(await coords(form), [lon, lat]);
    assert.equal(await markerAt(svg), `translate(${lon} ${-lat})`);
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
  assert.deepEqual(elsewhere, [], 'requests went only to the server');
});

test('geoPoint map on a phone (390 × 844): on screen, no sideways scroll, a tap picks the point', { timeout: 60_000 }, async () => {
  const { context, page, errors } = await newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
  try {
    await page.goto(`${server.url}/_/#/collections/geo_places`);
    await loginIfNeeded(page);
    await page.locator('td[data-field="title"]', { hasText: 'Rome' }).click();
    const form = page.locator('#record-form');
    const svg = form.locator('[data-field="place"] .geo-map svg');
    await svg.waitFor();
    await svg.scrollIntoViewIfNeeded();
    const box = await svg.boundingBox();
    assert.ok(box.x >= 0 && box.x + box.width <= 390 && box.width > 250, `the map fits: ${JSON.stringify(box)}`);
    const widths = await page.evaluate(() => {
      const body = document.querySelector('.panel-body');
      return { page: document.documentElement.scrollWidth, body: body.scrollWidth, bodyClient: body.clientWidth };
    });
    assert.ok(widths.page <= 390, `the page does not scroll sideways: ${JSON.stringify(widths)}`);
    assert.ok(widths.body <= widths.bodyClient, `the record panel does not scroll sideways: ${JSON.stringify(widths)}`);
    const zoomIn = await form.getByRole('button', { name: 'Zoom in' }).boundingBox();
    assert.ok(zoomIn.x + zoomIn.width <= 390, 'the zoom buttons are on screen');
    const tokyo = await worldPoint(svg, 139.7, 35.7);
    await page.touchscreen.tap(tokyo.x, tokyo.y);
    const [lon, lat] = await coords(form);
    near(lon, 139.7, 2, 'longitude');
    near(lat, 35.7, 2, 'latitude');
    await screenshot(page, 'geo-map-phone');
    await scan(page, 'geo-map-phone');
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
  assert.deepEqual(elsewhere, [], 'requests went only to the server');
});
