/**
 * The form and the credentials view rendered in jsdom: the new fields reach the request, the
 * registry's refusal of an extra argument lands on that field, and a delete goes through the
 * caller's confirmation.
 */
import { nullTranslator } from '@jupyterlab/translation';
import React from 'react';

import { CredentialsView } from '../components/CredentialsView';
import { TransferForm } from '../components/TransferForm';
import { CredentialsModel } from '../credentials';
import { newForm } from '../transfers';
import { FermiApiError, ITransfer, ITransferCreate } from '../tokens';
import {
  button as domButton,
  click,
  dom,
  field as domField,
  fill as domFill
} from './dom';
import { dataset, fakeApi, page } from './fakeApi';

const trans = nullTranslator.load('fermi_jupyter');
const { host: hostOf, render } = dom();
const field = <T extends HTMLElement>(name: string) => domField<T>(hostOf(), name);
const fill = (name: string, value: string) => domFill(hostOf(), name, value);
const button = (text: string) => domButton(hostOf(), text);

const folder = newForm('download', {
  kind: 'volume',
  volumeId: 'vol-1',
  volumeName: 'work',
  path: 'raw'
});

describe('TransferForm', () => {
  it('sends the policy, the dataset and the new volume, and shows a refusal on its field', async () => {
    const api = fakeApi();
    api.datasets.mockResolvedValue(
      page([
        dataset({ id: 'ds-2', name: 'zeta' }),
        dataset({ id: 'ds-1', name: 'alpha' })
      ])
    );
    const sent: ITransferCreate[] = [];
    api.createTransfer.mockImplementation((body: ITransferCreate) => {
      sent.push(body);
      return Promise.reject(
        new FermiApiError(
          "'--upload-pack' is not an allowed git download option; allowed: --depth",
          400,
          'invalid-transfer'
        )
      );
    });
    const started = jest.fn();
    await render(
      <TransferForm
        initial={folder}
        api={api}
        credentials={new CredentialsModel(api)}
        trans={trans}
        onStarted={started}
        onCancel={() => undefined}
      />
    );
    await fill('url', 'https://git.example.org/team/code.git');
    await click(hostOf().querySelector('[name="into"][value="newVolume"]')!);
    await fill('newVolumeName', 'datacube');
    await fill('newVolumeCapacity', '20Gi');
    await fill('newVolumeType', 'hdd');
    await click(hostOf().querySelector('[name="datasetMode"][value="version"]')!);
    // the picker lists your datasets by name
    const options = [...field<HTMLSelectElement>('datasetId').options].map(
      o => o.value
    );
    expect(options).toEqual(['', 'ds-1', 'ds-2']);
    await fill('datasetId', 'ds-2');
    await fill('retries', '2');
    await fill('deadline', '30');
    await fill('extraArgs', '--upload-pack=/bin/sh');
    await click(button('Add a variable'));
    await fill('env-name-0', 'HTTPS_PROXY');
    await fill('env-value-0', 'http://proxy:3128');
    await click(button('Start import'));

    expect(sent).toEqual([
      {
        source: { type: 'git', url: 'https://git.example.org/team/code.git' },
        sink: {
          type: 'volume',
          path: '',
          create_volume: { name: 'datacube', capacity: '20Gi', type: 'hdd' }
        },
        policy: {
          backoff_limit: 2,
          active_deadline_seconds: 1800,
          extra_args: ['--upload-pack=/bin/sh'],
          env: { HTTPS_PROXY: 'http://proxy:3128' }
        },
        dataset: { id: 'ds-2' }
      }
    ]);
    const refusal = hostOf().querySelector(
      '.jp-fermi-field-error[data-field="extraArgs"]'
    );
    expect(refusal?.textContent).toContain('not an allowed git download option');
    expect(field('extraArgs').getAttribute('aria-invalid')).toBe('true');
    expect(hostOf().querySelector('.jp-fermi-error')).toBeNull(); // once, on its field
    expect(started).not.toHaveBeenCalled();

    // fixed, it starts
    api.createTransfer.mockImplementation((body: ITransferCreate) => {
      sent.push(body);
      return Promise.resolve({ id: 'tr-1', state: 'pending' } as ITransfer);
    });
    await fill('extraArgs', '--depth 1');
    expect(hostOf().querySelector('[data-field="extraArgs"]')).toBeNull();
    await click(button('Start import'));
    expect(sent[1].policy?.extra_args).toEqual(['--depth', '1']);
    expect(started).toHaveBeenCalledWith({ id: 'tr-1', state: 'pending' }, sent[1]);
  });

  it('shows an environment clash on the variables, marking the row', async () => {
    const api = fakeApi();
    api.createTransfer.mockRejectedValue(
      new FermiApiError(
        'environment variable TOKEN has the name of a transfer option; set the option instead',
        400,
        'invalid-transfer'
      )
    );
    await render(
      <TransferForm
        initial={folder}
        api={api}
        credentials={new CredentialsModel(api)}
        trans={trans}
        onStarted={() => undefined}
        onCancel={() => undefined}
      />
    );
    await fill('url', 'https://git.example.org/team/code.git');
    await click(button('Add a variable'));
    await fill('env-name-0', 'TOKEN');
    await fill('env-value-0', 'x');
    await click(button('Start import'));
    expect(hostOf().querySelector('[data-field="env"]')?.textContent).toContain(
      'name of a transfer option'
    );
    expect(hostOf().querySelector('[data-field="credential"]')).toBeNull();
    expect(field('env-name-0').getAttribute('aria-invalid')).toBe('true');
    await click(button('Remove'));
    expect(hostOf().querySelector('[name="env-name-0"]')).toBeNull();
  });
});

describe('CredentialsView', () => {
  it('lists names and types only, stores a new one and asks before deleting', async () => {
    const api = fakeApi();
    api.credentials.mockResolvedValue({
      items: [{ name: 'gitlab', type: 'git', fields: ['token'] }]
    });
    const model = new CredentialsModel(api);
    await model.refresh();
    const onDelete = jest.fn();
    await render(<CredentialsView model={model} trans={trans} onDelete={onDelete} />);
    const row = hostOf().querySelector('[data-credential="gitlab"]')!;
    expect(row.textContent).toContain('Git');
    expect(row.textContent).toContain('holds: token');

    await fill('credential-type', 's3');
    await fill('credential-name', 'minio');
    await fill('credential-accessKeyId', 'AKIA1');
    await click(button('Store credential'));
    expect(
      hostOf().querySelector('[data-field="credential-secretAccessKey"]')
    ).not.toBeNull();
    expect(api.createCredential).not.toHaveBeenCalled();
    api.createCredential.mockResolvedValue({
      name: 'minio',
      type: 's3',
      fields: ['access_key_id', 'secret_access_key']
    });
    await fill('credential-secretAccessKey', 'very-secret');
    await click(button('Store credential'));
    expect(api.createCredential).toHaveBeenCalledWith({
      name: 'minio',
      type: 's3',
      access_key_id: 'AKIA1',
      secret_access_key: 'very-secret'
    });
    expect(hostOf().querySelector('[data-credential="minio"]')).not.toBeNull();
    expect(field<HTMLInputElement>('credential-secretAccessKey').value).toBe('');
    expect(hostOf().innerHTML).not.toContain('very-secret');

    await click(hostOf().querySelector('[aria-label="Delete credential gitlab"]')!);
    expect(onDelete).toHaveBeenCalledWith({
      name: 'gitlab',
      type: 'git',
      fields: ['token']
    });
    model.dispose();
  });
});
