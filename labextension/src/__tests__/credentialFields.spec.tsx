/**
 * One set of credential fields for the Credentials tab and the transfer form, and one list of
 * credentials between them: a credential stored or deleted in the tab reaches a form that is
 * open already.
 */
import { nullTranslator } from '@jupyterlab/translation';
import React from 'react';

import { CredentialField, CredentialFields } from '../components/CredentialFields';
import { CredentialsView } from '../components/CredentialsView';
import { TransferForm } from '../components/TransferForm';
import { CredentialsModel } from '../credentials';
import { newForm } from '../transfers';
import { ICredential, TransferTool } from '../tokens';
import { button, click, dom, fill, settle } from './dom';
import { fakeApi } from './fakeApi';

/** The Credentials tab and a transfer form (a download into work:`path`), sharing `model`. */
async function renderTabAndForm(
  api: ReturnType<typeof fakeApi>,
  model: CredentialsModel,
  path: string
): Promise<void> {
  await render(
    <>
      <CredentialsView model={model} trans={trans} onDelete={() => undefined} />
      <TransferForm
        initial={newForm('download', {
          kind: 'volume',
          volumeId: 'vol-1',
          volumeName: 'work',
          path
        })}
        api={api}
        credentials={model}
        trans={trans}
        onStarted={() => undefined}
        onCancel={() => undefined}
      />
    </>
  );
}

const trans = nullTranslator.load('fermi_jupyter');
const { host, render } = dom();

const EMPTY: Record<CredentialField, string> = {
  name: '',
  username: '',
  token: '',
  accessKeyId: '',
  secretAccessKey: ''
};

/** The labels and input names of the fields inside `root`, in order, with their type. */
function fieldsOf(root: ParentNode): string[] {
  return [...root.querySelectorAll('label.jp-fermi-field')]
    .filter(l => l.querySelector('input'))
    .map(l => {
      const input = l.querySelector('input')!;
      return `${l.querySelector('span')!.textContent}|${input.type}`;
    });
}

describe('CredentialFields', () => {
  it('shows the fields of each type, under the names and with the errors it is given', async () => {
    const changes: Array<[CredentialField, string]> = [];
    const show = (type: TransferTool, errors = {}) =>
      render(
        <CredentialFields
          type={type}
          values={{ ...EMPTY, name: 'gl', username: 'me' }}
          errors={errors}
          inputName={f => `x-${f}`}
          onChange={(f, v) => changes.push([f, v])}
          trans={trans}
        />
      );
    await show('git');
    expect(fieldsOf(host())).toEqual([
      'Name *|text',
      'User name (optional)|text',
      'Token *|password'
    ]);
    expect(host().querySelector<HTMLInputElement>('[name="x-name"]')!.value).toBe('gl');
    expect(host().querySelector('[name="x-token"]')!.getAttribute('autocomplete')).toBe(
      'off'
    );
    await show('huggingface');
    expect(fieldsOf(host())).toEqual(['Name *|text', 'Token *|password']);
    await show('s3', { secretAccessKey: 'Enter the secret access key.' });
    expect(fieldsOf(host())).toEqual([
      'Name *|text',
      'Access key ID *|text',
      'Secret access key *|password'
    ]);
    const error = host().querySelector('.jp-fermi-field-error')!;
    expect(error.getAttribute('data-field')).toBe('x-secretAccessKey');
    expect(error.textContent).toBe('Enter the secret access key.');
    expect(
      host().querySelector('[name="x-secretAccessKey"]')!.getAttribute('aria-invalid')
    ).toBe('true');
    expect(
      host().querySelector('[name="x-accessKeyId"]')!.hasAttribute('aria-invalid')
    ).toBe(false);
    await fill(host(), 'x-accessKeyId', 'AKIA1');
    expect(changes).toEqual([['accessKeyId', 'AKIA1']]);
  });

  it('is what both the Credentials tab and the transfer form show', async () => {
    const api = fakeApi();
    const model = new CredentialsModel(api);
    await renderTabAndForm(api, model, '');
    const tab = host().querySelector('.jp-fermi-new-credential-form')!;
    const form = host().querySelector('.jp-fermi-transfer-form')!;
    await fill(form, 'credential', '+new');
    const inline = form.querySelector('.jp-fermi-new-credential')!;
    for (const [tool, label] of [
      ['git', 'Git'],
      ['huggingface', 'Hugging Face'],
      ['s3', 'S3']
    ]) {
      await fill(tab, 'credential-type', tool);
      await click(
        [...form.querySelectorAll('label.jp-fermi-radio')]
          .find(l => l.textContent === label)!
          .querySelector('input')!
      );
      await fill(form, 'credential', '+new');
      const expected = fieldsOf(form.querySelector('.jp-fermi-new-credential')!);
      expect(expected.length).toBeGreaterThan(1);
      expect(fieldsOf(tab)).toEqual(expected);
    }
    expect(inline).toBeTruthy();
    model.dispose();
  });
});

describe('an open transfer form', () => {
  function cred(name: string, type: ICredential['type'] = 'git'): ICredential {
    return { name, type, fields: ['token'] };
  }

  it('offers a credential stored in the Credentials tab meanwhile, and drops a deleted one', async () => {
    const api = fakeApi();
    api.credentials.mockResolvedValue({ items: [cred('old')] });
    const model = new CredentialsModel(api);
    await render(
      <TransferForm
        initial={newForm('download', {
          kind: 'volume',
          volumeId: 'vol-1',
          volumeName: 'work',
          path: 'raw'
        })}
        api={api}
        credentials={model}
        trans={trans}
        onStarted={() => undefined}
        onCancel={() => undefined}
      />
    );
    const options = () =>
      [...host().querySelectorAll<HTMLOptionElement>('[name="credential"] option')].map(
        o => o.value
      );
    expect(options()).toEqual(['', 'old', '+new']);

    // stored in the Credentials tab (the same model) while the form stays open
    api.createCredential.mockResolvedValue(cred('gitlab'));
    await settle(() => model.create({ name: 'gitlab', type: 'git', token: 't' }));
    expect(options()).toEqual(['', 'gitlab', 'old', '+new']);
    // another type's credential is not offered for Git
    api.createCredential.mockResolvedValue(cred('hub', 'huggingface'));
    await settle(() => model.create({ name: 'hub', type: 'huggingface', token: 't' }));
    expect(options()).toEqual(['', 'gitlab', 'old', '+new']);

    // picked, then deleted in the tab: the form names none rather than a missing one
    await fill(host(), 'credential', 'gitlab');
    api.deleteCredential.mockResolvedValue(undefined);
    await settle(() => model.remove('gitlab'));
    expect(options()).toEqual(['', 'old', '+new']);
    expect(host().querySelector<HTMLSelectElement>('[name="credential"]')!.value).toBe(
      ''
    );
    model.dispose();
  });

  it('stores its inline new credential through the shared list', async () => {
    const api = fakeApi();
    const model = new CredentialsModel(api);
    await renderTabAndForm(api, model, 'raw');
    const form = host().querySelector('.jp-fermi-transfer-form')!;
    await fill(form, 'url', 'https://git.example.org/team/code.git');
    await fill(form, 'credential', '+new');
    await fill(form, 'newName', 'inline');
    await fill(form, 'token', 'tok');
    api.createCredential.mockResolvedValue(cred('inline'));
    api.createTransfer.mockResolvedValue({ id: 'tr-1', state: 'pending' });
    await click(button(form, 'Start import'));
    expect(api.createCredential).toHaveBeenCalledWith({
      name: 'inline',
      type: 'git',
      token: 'tok'
    });
    // the Credentials tab lists it without a reload
    expect(host().querySelector('[data-credential="inline"]')).not.toBeNull();
    model.dispose();
  });
});

describe('CredentialsModel', () => {
  it('does not lose a credential stored while the list was on its way', async () => {
    const api = fakeApi();
    let answer: (v: { items: ICredential[] }) => void = () => undefined;
    api.credentials.mockImplementationOnce(
      () => new Promise(resolve => (answer = resolve))
    );
    const model = new CredentialsModel(api);
    const loading = model.refresh();
    api.createCredential.mockResolvedValue(cred('new'));
    await model.create({ name: 'new', type: 'git', token: 't' });
    // the list asked before the store answers without it; it is asked again
    api.credentials.mockResolvedValue({ items: [cred('new')] });
    answer({ items: [] });
    await loading;
    expect(model.items.map(c => c.name)).toEqual(['new']);
    expect(model.loaded).toBe(true);
    model.dispose();
  });

  function cred(name: string): ICredential {
    return { name, type: 'git', fields: ['token'] };
  }
});
