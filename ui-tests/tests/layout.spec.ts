/**
 * The Data sidebar's layout in Chromium, as a user first meets it (galata gives every test a
 * fresh in-memory workspace: no layout restored): each section has room for what it shows,
 * Transfers opens with room beside the three others, and the panel's commands are in the
 * command palette. Against the real extension, registry and Jupyter servers of run.py: alice's
 * (mounts, volumes) and carol's (a new user: nothing yet).
 */
import { expect, IJupyterLabPageFixture, test } from '@jupyterlab/galata';
import { Locator } from '@playwright/test';
import * as fs from 'fs';
import * as path from 'path';

const state = JSON.parse(fs.readFileSync(process.env.FERMI_UI_STATE as string, 'utf8'));
// .work/screenshots/, or docs/images/ with FERMI_SCREENSHOTS=docs/images (as sidebar.spec.ts)
const IMAGES = path.resolve(
  __dirname,
  '..',
  '..',
  process.env.FERMI_SCREENSHOTS || path.join('.work', 'screenshots')
);
fs.mkdirSync(IMAGES, { recursive: true });

test.use({ serverFiles: 'off' });

const SECTIONS = {
  'Mounted here': '#jp-fermi-mounts',
  Volumes: '#jp-fermi-volumes',
  Datasets: '#jp-fermi-datasets',
  Transfers: '#jp-fermi-transfers'
};
type Section = keyof typeof SECTIONS;

async function openPanel(page: IJupyterLabPageFixture): Promise<Locator> {
  await page.sidebar.openTab('jp-fermi-data');
  const panel = page.locator('#jp-fermi-data');
  await expect(panel).toBeVisible();
  return panel;
}

function title(panel: Locator, name: Section): Locator {
  return panel.locator('.jp-AccordionPanel-title', { hasText: name });
}

async function height(section: Locator): Promise<number> {
  return (await section.boundingBox())?.height ?? 0;
}

/** Whether the section shows all it holds: nothing to scroll to, nothing cut off. */
async function shownWhole(section: Locator): Promise<{ scroll: number; client: number }> {
  return section.evaluate(e => ({
    scroll: e.scrollHeight,
    client: e.clientHeight
  }));
}

/** How many pixels of the section's content are cut off (0: shown whole). */
async function overflow(section: Locator): Promise<number> {
  const { scroll, client } = await shownWhole(section);
  return scroll - client;
}

/** `inner`'s box lies inside `outer`'s (to the pixel). */
async function expectInside(inner: Locator, outer: Locator): Promise<void> {
  const a = await inner.boundingBox();
  const b = await outer.boundingBox();
  expect(a).not.toBeNull();
  expect(b).not.toBeNull();
  expect(a!.height).toBeGreaterThan(0);
  expect(a!.y).toBeGreaterThanOrEqual(b!.y - 1);
  expect(a!.y + a!.height).toBeLessThanOrEqual(b!.y + b!.height + 1);
}

test.describe('Data sidebar layout', () => {
  test('on the first opening, what is mounted and the volumes are shown whole', async ({
    page
  }) => {
    const panel = await openPanel(page);
    const mounts = panel.locator(SECTIONS['Mounted here']);
    const volumes = panel.locator(SECTIONS.Volumes);
    await expect(mounts.locator('.jp-fermi-mount')).toHaveCount(2);
    await expect(volumes.locator('.jp-fermi-volume')).toHaveCount(2);
    // whole once the layout settles (content that grows after the first fit is fitted again)
    for (const section of [mounts, volumes]) {
      await expect.poll(() => overflow(section)).toBeLessThanOrEqual(1);
    }
    await expectInside(mounts.locator('.jp-fermi-mount').last(), mounts);
    await expectInside(volumes.locator('.jp-fermi-volume').last(), volumes);

    // content that grows after the first fit (a usage bar that arrives late) is fitted again
    // while the sizes are still the panel's own (CI once saw the list cut off by 3 px)
    await volumes.evaluate(e => {
      const late = document.createElement('div');
      late.style.height = '8px'; // (less than a line beyond the 40 % cap: shown whole)
      e.firstElementChild!.appendChild(late);
    });
    await expect.poll(() => overflow(volumes)).toBeLessThanOrEqual(1);

    // and so is a taller list put in place of the one there (as React does when a list
    // replaces "Loading…" or an error after the first fit: the removed one calls back, and
    // the new one is watched from then on)
    await volumes.evaluate(e => {
      const list = e.firstElementChild!;
      const taller = list.cloneNode(true) as HTMLElement;
      const late = document.createElement('div');
      late.style.height = '8px';
      taller.appendChild(late);
      list.replaceWith(taller);
    });
    await expect.poll(() => overflow(volumes)).toBeLessThanOrEqual(1);
  });

  test('Transfers opens with room while the three other sections stay open', async ({ page }) => {
    const panel = await openPanel(page);
    for (const name of ['Mounted here', 'Volumes', 'Datasets'] as Section[]) {
      await expect(title(panel, name)).toHaveAttribute('aria-expanded', 'true');
    }
    await expect(title(panel, 'Transfers')).toHaveAttribute('aria-expanded', 'false');

    await title(panel, 'Transfers').click();
    await expect(title(panel, 'Transfers')).toHaveAttribute('aria-expanded', 'true');
    const transfers = panel.locator(SECTIONS.Transfers);
    await expect.poll(() => height(transfers)).toBeGreaterThan(100);
    // the others keep room too
    for (const name of ['Mounted here', 'Volumes', 'Datasets'] as Section[]) {
      await expect(title(panel, name)).toHaveAttribute('aria-expanded', 'true');
      expect(await height(panel.locator(SECTIONS[name]))).toBeGreaterThan(60);
    }
    const credentials = transfers.getByRole('button', { name: 'Credentials…' });
    await expect(credentials).toBeVisible();
    await expectInside(credentials, transfers);
    // below it, the list (or what it is when empty) starts in view
    const first = transfers.locator('.jp-fermi-empty, .jp-fermi-transfer').first();
    await expect(first).toBeVisible();
    const [box, room] = [await first.boundingBox(), await transfers.boundingBox()];
    expect(box!.y + 20).toBeLessThan(room!.y + room!.height);
    await panel.screenshot({
      path: path.join(IMAGES, 'sidebar-four-sections.png')
    });

    // clickable where it is: nothing covers it
    await credentials.click({ timeout: 10000 });
    await expect(page.locator('.jp-fermi-credentials h2')).toHaveText('Credentials');
  });

  test('Transfers still has room after a reload restores the layout', async ({ page }) => {
    let panel = await openPanel(page);
    // the layout is saved (a workspace PUT) after the section opens; reload after that
    const saved = page.waitForRequest(
      r => r.url().includes('api/workspaces') && r.method() === 'PUT'
    );
    await title(panel, 'Transfers').click();
    const transfers = () => page.locator('#jp-fermi-data').locator(SECTIONS.Transfers);
    await expect.poll(() => height(transfers())).toBeGreaterThan(100);
    await saved;
    await page.reload();
    panel = await openPanel(page);
    await expect(title(panel, 'Transfers')).toHaveAttribute('aria-expanded', 'true');
    await expect.poll(() => height(transfers())).toBeGreaterThan(100);
    await expect(transfers().getByRole('button', { name: 'Credentials…' })).toBeVisible();
  });

  test('lists the panel commands in the command palette', async ({ page }) => {
    await page.keyboard.press('Control+Shift+C');
    const palette = page.locator('#modal-command-palette');
    await expect(palette).toBeVisible();
    await palette.locator('.lm-CommandPalette-input').fill('credentials');
    const item = palette.locator('.lm-CommandPalette-item', {
      hasText: 'Transfer credentials…'
    });
    await expect(item).toHaveCount(1);
    // under the category of the panel's other commands
    await expect(
      palette.locator('.lm-CommandPalette-header').filter({ hasText: /^Data$/ })
    ).toHaveCount(1);
    await palette.locator('.lm-CommandPalette-input').fill('Data panel');
    await expect(
      palette.locator('.lm-CommandPalette-item', {
        hasText: 'Open the Data panel'
      })
    ).toHaveCount(1);
    await palette.locator('.lm-CommandPalette-input').fill('credentials');
    await item.click();
    await expect(page.locator('.jp-fermi-credentials h2')).toHaveText('Credentials');
  });
});

test.describe('Data sidebar layout for a new user', () => {
  test.use({ baseURL: state.newcomer_url });

  test('on the first opening, the empty states are shown whole', async ({ page }) => {
    const panel = await openPanel(page);
    for (const name of ['Mounted here', 'Volumes'] as Section[]) {
      const section = panel.locator(SECTIONS[name]);
      const empty = section.locator('.jp-fermi-empty');
      await expect(empty).toBeVisible();
      await expect(empty.locator('.jp-fermi-empty-body')).not.toBeEmpty();
      const { scroll, client } = await shownWhole(section);
      expect(scroll).toBeLessThanOrEqual(client + 1);
      await expectInside(empty, section);
    }
    await panel.screenshot({
      path: path.join(IMAGES, 'sidebar-first-open.png')
    });
  });
});
