// Drives the Ingress dashboard in Debian's headless Chromium (playwright-core, no downloaded browser) for the
// integration tests. One JSON command per line on stdin, one JSON answer per line on stdout:
//   {"ok":true,...} or {"ok":false,"error":"..."} (a screenshot of the failure is saved in <output-dir>).
//   node dashboard-browser.mjs <http://127.0.0.1:port/dashboard> <output-dir>
// Commands: login {key} | waitFor {selector, text?, exact?, timeoutMs?} | waitGone {selector, text?, timeoutMs?}
//   | click {selector} | text {selector} | count {selector} | screenshot {name} | problems | close
// Every request the page makes to another origin is refused and reported by "problems" (nothing is loaded from
// elsewhere), as are uncaught script errors.
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

const executablePath = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const [url, outputDir] = process.argv.slice(2);

const answer = (value) => process.stdout.write(JSON.stringify(value) + '\n');
const fail = (error, code) => {
  answer({ ok: false, error });
  process.exit(code);
};

if (!url || !outputDir) fail('usage: node dashboard-browser.mjs <dashboard-url> <output-dir>', 2);
const origin = new URL(url).origin;
if (new URL(url).hostname !== '127.0.0.1') fail(`only 127.0.0.1 may be the target, not ${url}`, 2);
if (!existsSync(executablePath)) {
  fail(`Chromium is missing at ${executablePath}: install it with "apt-get install -y chromium" (./test.sh does)`, 3);
}

let chromium;
try {
  ({ chromium } = await import('playwright-core'));
} catch (error) {
  fail(`playwright-core is not installed: run "npm ci --prefix tests/interop" (${error.message})`, 3);
}

mkdirSync(outputDir, { recursive: true });
// Playwright gives every launch a fresh, empty profile directory of its own.
const browser = await chromium.launch({
  executablePath,
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync'],
});
const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
const pageErrors = [];
const offOrigin = [];
page.on('pageerror', (error) => pageErrors.push(String(error.message ?? error)));
await page.route('**/*', (route) => {
  if (new URL(route.request().url()).origin === origin) return route.continue();
  offOrigin.push(route.request().url());
  return route.abort();
});

// text: contained in the element's text (whitespace normalized); with exact, the whole of it.
const locate = ({ selector, text, exact }) => {
  const all = page.locator(selector);
  if (!text) return all.first();
  const pattern = exact ? new RegExp(`^\\s*${text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s*$`) : text;
  return all.filter({ hasText: pattern }).first();
};

const commands = {
  async login({ key }) {
    await page.locator('#login').waitFor({ state: 'visible', timeout: 10_000 });
    await page.fill('#key', key);
    await page.click('#login button[type=submit]');
    return {};
  },
  async waitFor(c) {
    const element = locate(c);
    await element.waitFor({ state: 'visible', timeout: c.timeoutMs ?? 30_000 });
    return { text: await element.innerText() };
  },
  async waitGone(c) {
    await locate(c).waitFor({ state: 'detached', timeout: c.timeoutMs ?? 30_000 });
    return {};
  },
  async click(c) {
    await locate(c).click({ timeout: c.timeoutMs ?? 10_000 });
    return {};
  },
  async text(c) {
    return { text: await locate(c).innerText({ timeout: c.timeoutMs ?? 10_000 }) };
  },
  async count({ selector }) {
    return { count: await page.locator(selector).count() };
  },
  async screenshot({ name }) {
    const path = join(outputDir, `${name}.png`);
    await page.screenshot({ path, fullPage: true });
    return { path };
  },
  async problems() {
    return { pageErrors, offOrigin };
  },
};

try {
  await page.goto(url, { waitUntil: 'load', timeout: 30_000 });
} catch (error) {
  await browser.close();
  fail(`could not load ${url}: ${error.message}`, 1);
}
answer({ ok: true, ready: true, browser: browser.version() });

let failures = 0;
for await (const line of createInterface({ input: process.stdin })) {
  if (!line.trim()) continue;
  const command = JSON.parse(line);
  if (command.cmd === 'close') break;
  const run = commands[command.cmd];
  try {
    if (!run) throw new Error(`unknown command ${command.cmd}`);
    answer({ ok: true, ...(await run(command)) });
  } catch (error) {
    const shot = join(outputDir, `failure-${++failures}.png`);
    await page.screenshot({ path: shot, fullPage: true }).catch(() => {});
    answer({ ok: false, error: `${command.cmd} failed: ${error.message}`, screenshot: shot });
  }
}
await browser.close();
answer({ ok: true, closed: true });
