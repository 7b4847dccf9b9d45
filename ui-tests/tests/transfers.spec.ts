/**
 * "Import data…" and the Transfers section in Chromium, against the real extension, registry
 * and a real Git server on loopback (git http-backend, started by tests/support/labenv.py).
 * Screenshots for docs/user/transfers.md and docs/user/sidebar.md: FERMI_SCREENSHOTS=docs/images.
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

async function openPanel(page: IJupyterLabPageFixture): Promise<Locator> {
  await page.sidebar.openTab('jp-fermi-data');
  const panel = page.locator('#jp-fermi-data');
  await expect(panel).toBeVisible();
  return panel;
}

/** "Import data…" on a folder row of alice's volume: the form opens in a tab. */
async function importInto(
  page: IJupyterLabPageFixture,
  folder: string
): Promise<Locator> {
  const panel = await openPanel(page);
  const vol = panel.locator(`.jp-fermi-volume[data-volume="${state.volume.id}"]`);
  const head = vol.locator('.jp-fermi-volume-head');
  if ((await head.getAttribute('aria-expanded')) !== 'true') {
    await head.click();
  }
  const row = vol.locator('.jp-fermi-row', { hasText: folder }).first();
  await row.hover();
  await row.locator('[data-action="import"]').click();
  const form = page.locator('.jp-fermi-transfer-form');
  await expect(form).toBeVisible();
  await expect(form.locator('h2')).toContainText(`work-storage:${folder}`);
  return form;
}

test.describe('Transfers', () => {
  test('imports a Git repository into a volume folder and sees it complete', async ({
    page
  }) => {
    const form = await importInto(page, 'experiments');
    await expect(form.getByLabel('Git', { exact: true })).toBeChecked();
    await form.locator('input[name="url"]').fill(state.git_url);
    await form.locator('input[name="ref"]').fill('main');
    // the credential picker offers a new one inline (not needed for this public repository)
    await form.locator('select[name="credential"]').selectOption('+new');
    await expect(form.locator('input[name="token"]')).toHaveAttribute(
      'type',
      'password'
    );
    await form.locator('select[name="credential"]').selectOption('');
    await expect(form.locator('input[name="token"]')).toHaveCount(0);
    await form.locator('input[name="retries"]').fill('1');
    await page.locator('.jp-fermi-transfer-widget').screenshot({
      path: path.join(IMAGES, 'transfer-import-form.png')
    });
    // the folder is open in the sidebar while the import runs: the clone shows when it is done
    const tree = page.locator(
      `#jp-fermi-data .jp-fermi-volume[data-volume="${state.volume.id}"] .jp-fermi-volume-tree`
    );
    await tree
      .locator('.jp-fermi-row', { hasText: 'experiments' })
      .first()
      .locator('.jp-fermi-row-name')
      .click();
    await expect(tree.locator('.jp-fermi-row', { hasText: 'exp-001' })).toBeVisible();
    await expect(tree.locator('.jp-fermi-row', { hasText: 'lab-demo' })).toHaveCount(0);
    await form.getByRole('button', { name: 'Start import' }).click();
    await expect(form).toHaveCount(0);

    const section = page.locator('#jp-fermi-transfers');
    const item = section.locator('.jp-fermi-transfer').first();
    await expect(item).toContainText(state.git_url);
    await expect(item).toHaveAttribute('data-state', 'complete', {
      timeout: 60000
    });
    await expect(item.locator('.jp-fermi-chip')).toHaveText('complete');
    await expect(item).toContainText('attempt 1 of 2');
    await expect(
      page.locator('.Toastify__toast', { hasText: 'Transfer complete' })
    ).toBeVisible();
    const cloned = path.join(
      state.workspace,
      'experiments',
      'lab-demo',
      'data',
      'train.csv'
    );
    expect(fs.readFileSync(cloned, 'utf8')).toBe('x,y\n1,2\n3,4\n');
    await expect(item).toContainText('→ work-storage:experiments');
    await expect(tree.locator('.jp-fermi-row', { hasText: 'lab-demo' })).toBeVisible();
    // the other sections folded, so the picture shows the transfers
    for (const title of ['Mounted here', 'Volumes', 'Datasets']) {
      await page
        .locator('#jp-fermi-data .jp-AccordionPanel-title', { hasText: title })
        .click();
    }
    await page.locator('#jp-fermi-data').screenshot({
      path: path.join(IMAGES, 'sidebar-transfers.png')
    });

    await item.getByRole('button', { name: 'View log' }).click();
    const log = page.locator('.jp-Dialog .jp-fermi-log');
    await expect(log).not.toBeEmpty();
    await page.locator('.jp-Dialog').getByRole('button', { name: 'Close' }).click();
  });

  test('stores a new credential from the form and imports a private repository', async ({
    page
  }) => {
    const form = await importInto(page, 'raw');
    await form.locator('input[name="url"]').fill(state.git_private_url);
    await form.locator('select[name="credential"]').selectOption('+new');
    await form.getByRole('button', { name: 'Start import' }).click();
    // the new credential needs a name and a token before anything is sent
    await expect(form.locator('[data-field="newName"]')).toBeVisible();
    await expect(form.locator('[data-field="token"]')).toBeVisible();
    await form.locator('input[name="newName"]').fill('lab-git');
    await form.locator('input[name="token"]').fill(state.git_token);
    await form.getByRole('button', { name: 'Start import' }).click();
    await expect(form).toHaveCount(0);
    const item = page
      .locator('#jp-fermi-transfers .jp-fermi-transfer')
      .filter({ hasText: 'lab-private' });
    await expect(item).toHaveAttribute('data-state', 'complete', { timeout: 60000 });
    const file = path.join(state.workspace, 'raw', 'lab-private', 'secret', 'notes.md');
    expect(fs.readFileSync(file, 'utf8')).toBe('# private\n');
    // the token is in no page: not in the list, not in the log
    await item.getByRole('button', { name: 'View log' }).click();
    await expect(page.locator('.jp-Dialog .jp-fermi-log')).not.toBeEmpty();
    expect(await page.content()).not.toContain(state.git_token);
    await page.locator('.jp-Dialog').getByRole('button', { name: 'Close' }).click();

    // the next form offers it by name
    const again = await importInto(page, 'raw');
    await expect(
      again.locator('select[name="credential"] option', { hasText: 'lab-git' })
    ).toHaveCount(1);
  });

  test('shows the server refusal in the form, and a failed transfer in the list', async ({
    page
  }) => {
    const form = await importInto(page, 'experiments');
    // checked in the browser first: a scheme Git transfers do not take
    await form.locator('input[name="url"]').fill('file:///etc');
    await form.getByRole('button', { name: 'Start import' }).click();
    await expect(form.locator('[data-field="url"]')).toContainText('https://');

    // then by the registry: a password written in the URL, shown on the URL field
    await form
      .locator('input[name="url"]')
      .fill('https://me:hunter2@git.example.org/x.git');
    await form.getByRole('button', { name: 'Start import' }).click();
    const refusal = form.locator('.jp-fermi-field-error[data-field="url"]');
    await expect(refusal).toContainText('password');
    await expect(form.locator('.jp-fermi-error')).toHaveCount(0); // once, on its field
    await expect(form.locator('input[name="url"]')).toHaveAttribute(
      'aria-invalid',
      'true'
    );
    await page.locator('.jp-fermi-transfer-widget').screenshot({
      path: path.join(IMAGES, 'transfer-form-error.png')
    });

    // a repository that is not there: accepted, then failed, with the reason in the list
    await form.locator('input[name="url"]').fill(state.git_bad_url);
    await form.getByRole('button', { name: 'Start import' }).click();
    await expect(form).toHaveCount(0);
    const item = page
      .locator('#jp-fermi-transfers .jp-fermi-transfer')
      .filter({ hasText: 'no-such-repo' });
    await expect(item).toHaveAttribute('data-state', 'failed', {
      timeout: 60000
    });
    await expect(item.locator('.jp-fermi-chip')).toHaveText('failed');
    await expect(item.locator('.jp-fermi-error')).not.toBeEmpty();
    await expect(
      page.locator('.Toastify__toast', { hasText: 'Transfer failed' })
    ).toBeVisible();
  });

  test('offers "Export…" on a ready dataset version, to Hugging Face or S3', async ({
    page
  }) => {
    const panel = await openPanel(page);
    const ds = panel.locator('.jp-fermi-dataset[data-name="imagenet-mini"]');
    await ds.locator('.jp-fermi-dataset-head').click();
    const v1 = ds.locator('.jp-fermi-version').first();
    await expect(v1.locator('.jp-fermi-chip')).toHaveText('ready');
    await v1.locator('.jp-fermi-version-number').click();
    await v1.getByRole('button', { name: 'Export…' }).click();
    const form = page.locator('.jp-fermi-transfer-form');
    await expect(form.locator('h2')).toHaveText('Export imagenet-mini@1');
    // a version has no Git repository to push; S3 exports may skip the bucket check
    await expect(form.getByLabel('Git', { exact: true })).toHaveCount(0);
    await expect(form.getByLabel('Hugging Face')).toBeChecked();
    await expect(form.locator('input[name="pathInRepo"]')).toBeVisible();
    await form.getByLabel('S3').check();
    await expect(form.locator('input[name="noCheckBucket"]')).toBeVisible();
    await expect(form.locator('input[name="sync"]')).toHaveCount(0);
    await expect(form.locator('input[name="datasetName"]')).toHaveCount(0);
    await form.getByRole('button', { name: 'Cancel' }).click();
    await expect(form).toHaveCount(0);
  });
});

/** "Credentials…" at the top of the Transfers section: the Credentials tab. */
async function openCredentials(page: IJupyterLabPageFixture): Promise<Locator> {
  const panel = await openPanel(page);
  // the other sections folded, so the Transfers section has the room
  for (const name of ['Mounted here', 'Volumes', 'Datasets', 'Transfers']) {
    const title = panel.locator('.jp-AccordionPanel-title', { hasText: name });
    const open = (await title.getAttribute('aria-expanded')) === 'true';
    if (open !== (name === 'Transfers')) {
      await title.click();
    }
  }
  await panel.getByRole('button', { name: 'Credentials…' }).click();
  const view = page.locator('.jp-fermi-credentials');
  await expect(view.locator('h2')).toHaveText('Credentials');
  return view;
}

test.describe('Transfer policy, new volume, new version, credentials', () => {
  test('refuses a forbidden extra argument on its field, then imports with the policy', async ({
    page
  }) => {
    const form = await importInto(page, 'experiments');
    await form.locator('input[name="url"]').fill(state.git_url);
    // into a volume made by the same request
    await form.getByLabel('A new volume, created with the import').check();
    await expect(form.locator('h2')).toHaveText('Import data into a new volume');
    await form.locator('input[name="newVolumeName"]').fill('ui-new-volume');
    await form.locator('input[name="newVolumeCapacity"]').fill('2Gi');
    await form.locator('select[name="newVolumeType"]').selectOption('hdd');
    await form.locator('input[name="newVolumePath"]').fill('code');
    // as a new dataset
    await form.getByLabel('As a new dataset').check();
    await form.locator('input[name="datasetName"]').fill('ui-code');
    // the execution policy
    await form.locator('input[name="retries"]').fill('2');
    await form.locator('input[name="deadline"]').fill('10');
    await form.locator('select[name="deadlineUnit"]').selectOption('minutes');
    await form.locator('input[name="extraArgs"]').fill('--upload-pack=/bin/sh');
    await form.getByRole('button', { name: 'Add a variable' }).click();
    await form.locator('input[name="env-name-0"]').fill('HTTPS_PROXY');
    await form.locator('input[name="env-value-0"]').fill('http://proxy.invalid:3128');
    await form.getByRole('button', { name: 'Start import' }).click();

    // the registry's allow-list refuses it, on the field, and the form stays
    const refusal = form.locator('.jp-fermi-field-error[data-field="extraArgs"]');
    await expect(refusal).toContainText("'--upload-pack' is not an allowed git");
    await expect(refusal).toContainText('--depth'); // it names what is allowed
    await expect(form.locator('input[name="extraArgs"]')).toHaveAttribute(
      'aria-invalid',
      'true'
    );
    await expect(form.locator('.jp-fermi-error')).toHaveCount(0);
    await refusal.scrollIntoViewIfNeeded();
    await form.locator('[data-group="policy"]').screenshot({
      path: path.join(IMAGES, 'transfer-extra-args-refused.png')
    });
    // nothing was made by the refused request
    const panel = page.locator('#jp-fermi-data');
    await expect(panel.locator('.jp-fermi-volume', { hasText: 'ui-new-volume' })).toHaveCount(
      0
    );

    await form.locator('input[name="extraArgs"]').fill('--depth 1');
    await expect(refusal).toHaveCount(0);
    await form.getByRole('button', { name: 'Start import' }).click();
    await expect(form).toHaveCount(0);
    const item = page
      .locator('#jp-fermi-transfers .jp-fermi-transfer')
      .filter({ hasText: 'ui-new-volume:code' });
    await expect(item).toHaveAttribute('data-state', 'complete', { timeout: 60000 });
    await expect(item).toContainText('attempt 1 of 3');
    // by the dataset's name, not its id
    await expect(item).toContainText('dataset ui-code@1');
    // the new volume is listed in the sidebar
    await expect(panel.locator('.jp-fermi-volume', { hasText: 'ui-new-volume' })).toHaveCount(
      1
    );

    // again, as a new version of that dataset, picked from yours
    const again = await importInto(page, 'experiments');
    await again.locator('input[name="url"]').fill(state.git_url);
    await again.getByLabel('A new volume, created with the import').check();
    await again.locator('input[name="newVolumeName"]').fill('ui-new-volume-2');
    await again.locator('input[name="newVolumeCapacity"]').fill('1Gi');
    await again.getByLabel('As a new version of one of your datasets').check();
    const picker = again.locator('select[name="datasetId"]');
    await expect(picker.locator('option', { hasText: 'ui-code' })).toHaveCount(1);
    await expect(picker.locator('option', { hasText: 'speech-corpus' })).toHaveCount(0); // bob's
    await picker.selectOption({ label: 'ui-code (latest version 1)' });
    await again.locator('input[name="datasetMessage"]').fill('second import');
    await again.locator('input[name="retries"]').fill('1');
    await again.locator('input[name="deadline"]').fill('30');
    await again.locator('input[name="extraArgs"]').fill('--depth 1 --no-tags');
    await again.getByRole('button', { name: 'Add a variable' }).click();
    await again.locator('input[name="env-name-0"]').fill('HTTPS_PROXY');
    await again.locator('input[name="env-value-0"]').fill('http://proxy.invalid:3128');
    // tall enough for the whole form in one picture
    await page.setViewportSize({ width: 1280, height: 1700 });
    await again.screenshot({ path: path.join(IMAGES, 'transfer-policy-form.png') });
    await page.setViewportSize({ width: 1280, height: 800 });
    await again.getByRole('button', { name: 'Start import' }).click();
    await expect(again).toHaveCount(0);
    const second = page
      .locator('#jp-fermi-transfers .jp-fermi-transfer')
      .filter({ hasText: 'ui-new-volume-2:' });
    await expect(second).toHaveAttribute('data-state', 'complete', { timeout: 60000 });
    await expect(second).toContainText('dataset ui-code@2');
  });

  test('lists credentials by name and type, stores one and deletes one after asking', async ({
    page
  }) => {
    const view = await openCredentials(page);

    const secret = 'hf_uiSecretNeverShown0042';
    await view.locator('select[name="credential-type"]').selectOption('huggingface');
    await view.locator('input[name="credential-name"]').fill('ui-hf');
    await view.getByRole('button', { name: 'Store credential' }).click();
    await expect(view.locator('[data-field="credential-token"]')).toBeVisible();
    await view.locator('input[name="credential-token"]').fill(secret);
    await view.getByRole('button', { name: 'Store credential' }).click();
    const row = view.locator('[data-credential="ui-hf"]');
    await expect(row).toContainText('Hugging Face');
    await expect(row).toContainText('holds: token');
    await expect(view.locator('input[name="credential-token"]')).toHaveValue('');
    expect(await page.content()).not.toContain(secret);
    // a name already taken: the registry's refusal, on the name
    await view.locator('input[name="credential-name"]').fill('ui-hf');
    await view.locator('input[name="credential-token"]').fill('another');
    await view.getByRole('button', { name: 'Store credential' }).click();
    await expect(view.locator('[data-field="credential-name"]')).toContainText(
      'already have a credential'
    );
    await view.locator('input[name="credential-name"]').fill('');
    await view.locator('input[name="credential-token"]').fill('');
    await view.screenshot({ path: path.join(IMAGES, 'transfer-credentials.png') });

    // delete: asked first; "Keep it" keeps it
    await row.getByRole('button', { name: 'Delete credential ui-hf' }).click();
    const dialog = page.locator('.jp-Dialog');
    await expect(dialog).toContainText('Delete credential ui-hf?');
    await dialog.getByRole('button', { name: 'Keep it' }).click();
    await expect(row).toHaveCount(1);
    await row.getByRole('button', { name: 'Delete credential ui-hf' }).click();
    await page.locator('.jp-Dialog').getByRole('button', { name: 'Delete' }).click();
    await expect(row).toHaveCount(0);
    // gone from the registry too: a fresh page's view does not list it
    await page.reload();
    const fresh = await openCredentials(page);
    await expect(fresh.locator('.jp-fermi-credential-list, .jp-fermi-empty').first()).toBeVisible();
    await expect(fresh.locator('[data-credential="ui-hf"]')).toHaveCount(0);
  });

  test('an open import form offers a credential stored meanwhile in the Credentials tab', async ({
    page
  }) => {
    const form = await importInto(page, 'raw');
    const picker = form.locator('select[name="credential"]');
    await expect(picker.locator('option', { hasText: 'ui-meanwhile' })).toHaveCount(0);
    const formTab = page.locator('.lm-DockPanel-tabBar .lm-TabBar-tab', {
      hasText: 'Import data into'
    });

    // the Credentials tab, from the Transfers section, beside the open form
    const view = await openCredentials(page);
    await view.locator('select[name="credential-type"]').selectOption('git');
    await view.locator('input[name="credential-name"]').fill('ui-meanwhile');
    await view.locator('input[name="credential-token"]').fill('tok-meanwhile');
    await view.getByRole('button', { name: 'Store credential' }).click();
    await expect(view.locator('[data-credential="ui-meanwhile"]')).toHaveCount(1);

    // back in the form, not reopened: it is offered, and can be picked
    await formTab.click();
    await expect(form).toBeVisible();
    await expect(picker.locator('option', { hasText: 'ui-meanwhile' })).toHaveCount(1);
    await picker.selectOption('ui-meanwhile');

    // deleted in the tab: the form drops it, and names none
    await page.locator('.lm-DockPanel-tabBar .lm-TabBar-tab', { hasText: 'Credentials' }).click();
    await view
      .locator('[data-credential="ui-meanwhile"]')
      .getByRole('button', { name: 'Delete credential ui-meanwhile' })
      .click();
    await page.locator('.jp-Dialog').getByRole('button', { name: 'Delete' }).click();
    await expect(view.locator('[data-credential="ui-meanwhile"]')).toHaveCount(0);
    await formTab.click();
    await expect(picker.locator('option', { hasText: 'ui-meanwhile' })).toHaveCount(0);
    await expect(picker).toHaveValue('');
  });
});
