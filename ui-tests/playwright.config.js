/**
 * galata's Playwright configuration, pointed at the server ui-tests/run.py started, in Debian's
 * Chromium (never a downloaded browser).
 */
const baseConfig = require('@jupyterlab/galata/lib/playwright-config');

module.exports = {
  ...baseConfig,
  workers: 1,
  // a busy machine can make Lab start slower than galata's fixed 15 s wait: one retry
  retries: process.env.CI ? 1 : 0,
  timeout: 90000,
  expect: { timeout: 15000 },
  reporter: [['list']],
  use: {
    ...baseConfig.use,
    baseURL: process.env.FERMI_UI_URL || 'http://127.0.0.1:8888',
    autoGoto: true,
    video: 'off',
    trace: 'retain-on-failure',
    viewport: { width: 1280, height: 800 },
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync'
      ]
    }
  }
};
