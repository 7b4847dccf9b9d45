/**
 * The Data sidebar in Chromium against a real Jupyter server with the real extension, a real
 * registry (a hub-managed service) and real mounts (ui-tests/run.py starts them).
 * Screenshots of each step go to .work/screenshots/, or to docs/images/ for the user guide
 * with FERMI_SCREENSHOTS=docs/images (so a test run leaves the checkout as it was).
 */
import { expect, galata, IJupyterLabPageFixture, test } from '@jupyterlab/galata';
import { Locator } from '@playwright/test';
import * as fs from 'fs';
import * as path from 'path';

const state = JSON.parse(fs.readFileSync(process.env.FERMI_UI_STATE as string, 'utf8'));
const IMAGES = path.resolve(
  __dirname,
  '..',
  '..',
  process.env.FERMI_SCREENSHOTS || path.join('.work', 'screenshots')
);
fs.mkdirSync(IMAGES, { recursive: true });

test.use({ serverFiles: 'off' });

async function shot(target: IJupyterLabPageFixture | Locator, name: string) {
  await target.screenshot({ path: path.join(IMAGES, name) });
}

/** A call to the server extension from inside the page (with Lab's XSRF cookie). */
async function apiPost(page: IJupyterLabPageFixture, url: string, body: unknown) {
  return page.evaluate(
    async ([url, body]) => {
      const xsrf = document.cookie.match(/_xsrf=([^;]+)/)?.[1] ?? '';
      const r = await fetch(url as string, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'X-XSRFToken': xsrf },
        body: JSON.stringify(body)
      });
      return { status: r.status, body: await r.json() };
    },
    [url, body]
  );
}

async function openPanel(page: IJupyterLabPageFixture): Promise<Locator> {
  await page.sidebar.openTab('jp-fermi-data');
  const panel = page.locator('#jp-fermi-data');
  await expect(panel).toBeVisible();
  return panel;
}

async function openWizard(page: IJupyterLabPageFixture): Promise<Locator> {
  const panel = await openPanel(page);
  await panel.getByRole('button', { name: 'Create dataset from volume' }).click();
  const wizard = page.locator('.jp-fermi-wizard');
  await expect(wizard).toBeVisible();
  return wizard;
}

/** Steps 1 and 2: work-storage, then the folder `name` (clicked once: selected). */
async function chooseFolder(page: IJupyterLabPageFixture, wizard: Locator, folder: string[]) {
  await wizard.locator(`.jp-fermi-choice[data-volume="${state.volume.id}"]`).click();
  await wizard.getByRole('button', { name: 'Next' }).click();
  for (const name of folder.slice(0, -1)) {
    await wizard.locator('.jp-fermi-row', { hasText: name }).first().dblclick();
  }
  const target = folder[folder.length - 1];
  await wizard.locator('.jp-fermi-row', { hasText: target }).first().click();
  await expect(wizard.locator('.jp-fermi-row.jp-mod-selected')).toContainText(target);
}

test.describe('Data sidebar', () => {
  test('shows what is mounted here, with locks on read-only mounts', async ({ page }) => {
    const panel = await openPanel(page);
    const mounts = panel.locator('.jp-fermi-mount');
    await expect(mounts).toHaveCount(2);
    const ds = mounts.filter({ hasText: 'imagenet-mini@1' });
    await expect(ds.locator('.jp-fermi-lock')).toHaveText('read-only');
    const vol = mounts.filter({ hasText: 'work-storage' });
    await expect(vol.locator('.jp-fermi-rw')).toHaveText('read-write');
    await expect(vol.locator('.jp-fermi-lock')).toHaveCount(0);
    await shot(page, 'sidebar-overview.png');

    // a click opens the mount in Lab's file browser
    await vol.click();
    await expect(page.locator('.jp-FileBrowser-crumbs')).toContainText(state.volume.id);
    await expect(page.locator('.jp-DirListing-item', { hasText: 'augmented' })).toBeVisible();
  });

  test('follows the dark theme', async ({ page }) => {
    await page.theme.setDarkTheme();
    const panel = await openPanel(page);
    const background = await panel.evaluate(e => getComputedStyle(e).backgroundColor);
    const [r, g, b] = (background.match(/\d+/g) ?? ['255', '255', '255']).map(Number);
    expect(r + g + b).toBeLessThan(3 * 100); // dark, from the theme's variables
    await shot(page, 'sidebar-dark.png');
  });

  test('shows volumes with usage, type advice and a paged folder tree with search', async ({
    page
  }) => {
    const panel = await openPanel(page);
    const vol = panel.locator(`.jp-fermi-volume[data-volume="${state.volume.id}"]`);
    await expect(vol.locator('.jp-fermi-usage-text')).toContainText('of 1.00 GiB used');
    await expect(vol.locator('.jp-fermi-advice')).toContainText('SSD: fast random reads');
    const archive = panel.locator(`.jp-fermi-volume[data-volume="${state.archive.id}"]`);
    await expect(archive.locator('.jp-fermi-advice')).toContainText('HDD');

    await vol.locator('.jp-fermi-volume-head').click();
    const rows = vol.locator('.jp-fermi-row');
    await expect(rows.filter({ hasText: 'augmented' })).toBeVisible();
    await expect(rows.filter({ hasText: 'experiments' })).toBeVisible();
    await rows.filter({ hasText: 'augmented' }).locator('.jp-fermi-row-name').click();
    await expect(rows.filter({ hasText: 'train' })).toBeVisible();
    await expect(vol.locator('.jp-fermi-crumbs')).toContainText('augmented');
    await vol.locator('.jp-fermi-crumb').first().click();

    // keyboard: Tab reaches the folders, Enter opens one
    await rows.filter({ hasText: 'experiments' }).focus();
    await page.keyboard.press('Enter');
    await expect(rows.filter({ hasText: 'exp-001' })).toBeVisible();
    await vol.locator('.jp-fermi-crumb').first().click();

    // a name search reaches sub folders
    await vol.getByRole('searchbox').fill('notes');
    await vol.getByRole('searchbox').press('Enter');
    await expect(rows.filter({ hasText: 'experiments/exp-001/notes.txt' })).toBeVisible();
    await shot(panel, 'sidebar-volumes.png');
  });

  test('the wizard registers a folder; the version goes processing → ready with a notification', async ({
    page
  }) => {
    const wizard = await openWizard(page);
    await expect(wizard.locator('.jp-fermi-steps li.jp-mod-active')).toContainText(
      'Choose a volume'
    );
    await expect(wizard.locator('.jp-fermi-choice')).toHaveCount(2);
    await shot(page, 'wizard-1-volume.png');

    await chooseFolder(page, wizard, ['augmented']);
    await expect(wizard.locator('.jp-fermi-selected')).toHaveText('Chosen: /augmented');
    await shot(page, 'wizard-2-folder.png');
    await wizard.getByRole('button', { name: 'Next' }).click();

    // step 3: the name comes from the folder, the type from its files
    const name = wizard.locator('input[name="name"]');
    await expect(name).toHaveValue('augmented');
    await expect(wizard.locator('select[name="dataType"]')).toHaveValue('image');
    await name.fill('ImageNet-2024-Augmented-3x');
    await wizard.locator('textarea[name="description"]').fill('基于 ImageNet-2024 进行 3 倍数据扩增');
    await wizard.locator('input[name="tags"]').fill('扩增');
    await expect(wizard.getByText('The name is free.')).toBeVisible();
    await shot(page, 'wizard-3-details.png');
    await wizard.getByRole('button', { name: 'Create dataset' }).click();

    // the wizard closes; the panel shows the new dataset with its version
    await expect(wizard).toHaveCount(0);
    const ds = page.locator('.jp-fermi-dataset[data-name="ImageNet-2024-Augmented-3x"]');
    await expect(ds).toBeVisible();
    const v1 = ds.locator('.jp-fermi-version').first();
    const toast = page.locator('.Toastify__toast', {
      hasText: 'ImageNet-2024-Augmented-3x@1 is ready'
    });
    await expect(toast).toBeVisible({ timeout: 60000 });
    await expect(toast.getByRole('button', { name: 'Open dataset' })).toBeVisible();
    await expect(toast.getByRole('button', { name: 'Copy mount path' })).toBeVisible();
    // this one replaced the "Registering…" notification: not a second toast beside it
    await expect(
      page.locator('.Toastify__toast', { hasText: 'Registering ImageNet-2024-Augmented-3x@1' })
    ).toHaveCount(0, { timeout: 1000 });
    await expect(v1.locator('.jp-fermi-chip')).toHaveText('ready');
    await shot(page, 'notification-ready.png');

    // details: size, files, lineage
    await v1.locator('.jp-fermi-version-number').click();
    await expect(v1.locator('.jp-fermi-facts')).toContainText('Files');
    // a first version of a file no other version holds stored all of itself anew
    const facts = v1.locator('.jp-fermi-facts');
    await expect(facts.locator('dt', { hasText: 'New storage' })).toBeVisible();
    const sizes = facts.locator('dd');
    await expect(sizes.nth(1)).toHaveText((await sizes.nth(0).textContent()) ?? 'no size');
    await v1.getByRole('button', { name: 'Lineage' }).click();
    await expect(v1.locator('.jp-fermi-lineage')).toContainText('imagenet-mini@1');
  });

  test('refuses an invalid or clashing name before sending anything', async ({ page }) => {
    const wizard = await openWizard(page);
    await chooseFolder(page, wizard, ['experiments']);
    await wizard.getByRole('button', { name: 'Next' }).click();
    const name = wizard.locator('input[name="name"]');

    await name.fill('bad/name');
    await name.blur();
    await expect(wizard.locator('#jp-fermi-err-name')).toContainText('Use letters, digits');

    await name.fill('imagenet-mini');
    await expect(wizard.locator('#jp-fermi-err-name')).toContainText(
      'You already have a dataset with this name'
    );
    await wizard.getByRole('button', { name: 'Create dataset' }).click();
    await expect(wizard).toBeVisible(); // nothing sent: still here
    await expect(name).toHaveAttribute('aria-invalid', 'true');
    await shot(page, 'wizard-errors.png');

    await name.fill('');
    await wizard.getByRole('button', { name: 'Create dataset' }).click();
    await expect(wizard.locator('#jp-fermi-err-name')).toHaveText('A name is required.');

    // the server agrees: no dataset by those names was created
    const r = await page.request.get('/api/fermi/datasets?scope=mine');
    const names = (await r.json()).items.map((d: { name: string }) => d.name);
    expect(names).not.toContain('bad/name');
    expect(names.filter((n: string) => n === 'imagenet-mini')).toHaveLength(1);
  });

  test('cancels a registration that is still processing', async ({ page }) => {
    const panel = await openPanel(page);
    // the registry holds the job once its first files are stored (a pause point), so it is
    // surely still running when we cancel, however fast the storage engine is
    const arm = path.join(state.pause_dir, 'arm-copying');
    fs.writeFileSync(arm, '');
    const name = `to-cancel-${test.info().retry}`; // a retry starts afresh
    const r = await apiPost(page, '/api/fermi/datasets', {
      name,
      version: { volume_id: state.volume.id, path: 'processed/dataset-v2' }
    });
    expect(r.status).toBe(201);
    const paused = () => fs.readdirSync(state.pause_dir).filter(f => f.endsWith('-copying') && f !== 'arm-copying');
    await expect.poll(paused, { timeout: 30000 }).toHaveLength(1);
    fs.rmSync(arm); // no other job stops there
    const ds = panel.locator(`.jp-fermi-dataset[data-name="${name}"]`);
    await expect(ds).toBeVisible();
    await ds.locator('.jp-fermi-dataset-head').click();
    const v1 = ds.locator('.jp-fermi-version').first();
    await expect(page.locator('.jp-fermi-status')).toContainText('Registering');
    await v1.getByRole('button', { name: 'Cancel' }).click();
    // the job goes on only once the registry has recorded the cancel (the request's answer):
    // released earlier, a fast job could finish first (seen once in CI, on a loaded machine)
    const cancelled = page.waitForResponse(
      res => res.request().method() === 'POST' && /\/versions\/1\/cancel$/.test(new URL(res.url()).pathname)
    );
    await page.locator('.jp-Dialog').getByRole('button', { name: 'Cancel registration' }).click();
    expect((await cancelled).status()).toBeLessThan(300);
    for (const marker of paused()) {
      fs.rmSync(path.join(state.pause_dir, marker)); // the job goes on, and sees the cancel
    }
    await expect(v1.locator('.jp-fermi-chip')).toHaveText('cancelled', { timeout: 30000 });
    await expect(page.locator('.jp-fermi-status')).toHaveCount(0);
  });

  test('offers "Register as dataset version…" on folders of volumes, not of datasets', async ({
    page
  }) => {
    const entry = page.locator('.lm-Menu-item', { hasText: 'Register as dataset version…' });
    // inside the read-only dataset mount: absent (registering there could only fail)
    await page.filebrowser.openDirectory(state.dataset_browser);
    await page.locator('.jp-DirListing-item', { hasText: 'train' }).click({ button: 'right' });
    await expect(page.locator('.lm-Menu').first()).toBeVisible();
    await expect(page.locator('.lm-Menu-item', { hasText: 'Copy Path' })).toBeVisible();
    await expect(entry).toBeHidden(); // Lumino keeps hidden items in the DOM
    await page.keyboard.press('Escape');
    await expect(page.locator('.lm-Menu')).toHaveCount(0);

    // inside the volume: present, and it opens the wizard at step 3 for that folder
    await page.filebrowser.openDirectory(state.workspace_browser);
    await page.locator('.jp-DirListing-item', { hasText: 'experiments' }).click({
      button: 'right'
    });
    await expect(entry).toBeVisible();
    await shot(page, 'context-menu.png');
    await entry.click();
    const wizard = page.locator('.jp-fermi-wizard');
    await expect(wizard).toHaveAttribute('data-step', '3');
    await expect(wizard.locator('.jp-fermi-source')).toContainText('work-storage:/experiments');
    await expect(wizard.locator('input[name="name"]')).toHaveValue('experiments');
  });
});

test.describe('Data sidebar in Chinese', () => {
  test.use({
    mockSettings: {
      ...galata.DEFAULT_SETTINGS,
      '@jupyterlab/translation-extension:plugin': { locale: 'zh_CN' }
    },
    waitForApplication: async ({ baseURL }, use) => {
      await use(async page => {
        await page.locator('#jupyterlab-splash').waitFor({ state: 'detached' });
        await page.locator('.jp-Launcher').first().waitFor();
      });
    }
  });

  test('shows the panel and the wizard in zh_CN', async ({ page }) => {
    await page.sidebar.openTab('jp-fermi-data');
    const panel = page.locator('#jp-fermi-data');
    await expect(panel.locator('.jp-fermi-panel-title')).toHaveText('数据');
    await expect(panel).toContainText('本环境挂载');
    await expect(panel).toContainText('存储卷');
    await expect(panel.locator('.jp-fermi-lock').first()).toHaveText('只读');
    await expect(panel).toContainText('SSD：随机读取快');
    await shot(page, 'sidebar-zh.png');

    await panel.getByRole('button', { name: '从存储卷创建数据集' }).click();
    const wizard = page.locator('.jp-fermi-wizard');
    await expect(wizard.locator('.jp-fermi-wizard-title')).toHaveText('从存储卷创建数据集');
    await expect(wizard.locator('.jp-fermi-steps')).toContainText('选择存储卷');
    await shot(page, 'wizard-zh.png');
  });
});
