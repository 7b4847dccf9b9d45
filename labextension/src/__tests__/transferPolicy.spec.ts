/**
 * The form's new parts without React: the execution policy (retries, deadline with its unit,
 * extra arguments, environment rows), import as a new dataset or a new version of one, a
 * download into a volume made by the same request, and which field a refusal is about.
 */
import { nullTranslator } from '@jupyterlab/translation';

import {
  fieldOfError,
  ITransferForm,
  LocalPlace,
  newForm,
  transferBody,
  validate
} from '../transfers';
import { deadlineSeconds, envRows, splitArgs } from '../transferPolicy';

const trans = nullTranslator.load('fermi_jupyter');
const folder: LocalPlace = {
  kind: 'volume',
  volumeId: 'vol-1',
  volumeName: 'work',
  path: 'raw'
};

function form(over: Partial<ITransferForm> = {}): ITransferForm {
  return { ...newForm('download', folder), url: 'https://h/x.git', ...over };
}

describe('execution policy', () => {
  it('splits extra arguments as a shell would, without expanding anything', () => {
    expect(splitArgs('')).toEqual([]);
    expect(splitArgs('  --depth 1   --filter=blob:none ')).toEqual([
      '--depth',
      '1',
      '--filter=blob:none'
    ]);
    expect(splitArgs('--include "*.json" --exclude=\'a b\'')).toEqual([
      '--include',
      '*.json',
      '--exclude=a b'
    ]);
    expect(splitArgs('--x ""')).toEqual(['--x', '']);
    expect(splitArgs('$HOME `id`')).toEqual(['$HOME', '`id`']);
    expect(splitArgs('--include "*.json')).toBeNull();
  });

  it('turns the deadline and its unit into seconds, within the registry bounds', () => {
    expect(deadlineSeconds('', 'minutes')).toBeUndefined();
    expect(deadlineSeconds('90', 'seconds')).toBe(90);
    expect(deadlineSeconds('30', 'minutes')).toBe(1800);
    expect(deadlineSeconds('2', 'hours')).toBe(7200);
    expect(deadlineSeconds('168', 'hours')).toBe(7 * 24 * 3600);
    expect(deadlineSeconds('169', 'hours')).toBeNull();
    expect(deadlineSeconds('0', 'seconds')).toBeNull();
    expect(deadlineSeconds('1.5', 'hours')).toBeNull();
    expect(deadlineSeconds('-3', 'minutes')).toBeNull();
  });

  it('ignores empty environment rows and checks the rest before sending', () => {
    expect(
      envRows([
        { name: ' HTTPS_PROXY ', value: 'http://p:3128' },
        { name: '', value: '' }
      ])
    ).toEqual([{ name: 'HTTPS_PROXY', value: 'http://p:3128' }]);
    const env = (rows: { name: string; value: string }[]) =>
      validate(form({ env: rows }), trans).env;
    expect(env([{ name: 'NO_PROXY', value: '' }])).toBeUndefined();
    expect(env([{ name: '1X', value: 'v' }])).toMatch(/1X/);
    expect(env([{ name: '', value: 'orphan value' }])).toBeTruthy();
    expect(
      env([
        { name: 'A', value: '1' },
        { name: 'A', value: '2' }
      ])
    ).toMatch(/twice/);
  });

  it('checks retries, the deadline and quoting before asking the server', () => {
    const errors = validate(
      form({ retries: 11, deadline: 'soon', extraArgs: '--include "x' }),
      trans
    );
    expect(Object.keys(errors).sort()).toEqual(['deadline', 'extraArgs', 'retries']);
  });

  it('sends the whole policy, and nothing for fields left empty', () => {
    expect(transferBody(form()).policy).toBeUndefined();
    const body = transferBody(
      form({
        retries: 2,
        deadline: '30',
        deadlineUnit: 'minutes',
        extraArgs: '--depth 1 --no-tags',
        env: [
          { name: 'HTTPS_PROXY', value: 'http://proxy:3128' },
          { name: '', value: '' }
        ]
      })
    );
    expect(body.policy).toEqual({
      backoff_limit: 2,
      active_deadline_seconds: 1800,
      extra_args: ['--depth', '1', '--no-tags'],
      env: { HTTPS_PROXY: 'http://proxy:3128' }
    });
  });
});

describe('import as a dataset', () => {
  it('registers nothing unless asked, a new dataset by name, or a new version by id', () => {
    expect(transferBody(form({ datasetName: 'left over' })).dataset).toBeUndefined();
    expect(
      transferBody(form({ datasetMode: 'new', datasetName: ' code ' })).dataset
    ).toEqual({ name: 'code' });
    expect(
      transferBody(
        form({ datasetMode: 'version', datasetId: 'ds-7', datasetMessage: 'nightly' })
      ).dataset
    ).toEqual({ id: 'ds-7', message: 'nightly' });
  });

  it('needs a valid name, or a chosen dataset', () => {
    expect(validate(form({ datasetMode: 'new' }), trans).datasetName).toBeTruthy();
    expect(
      validate(form({ datasetMode: 'new', datasetName: 'a b' }), trans).datasetName
    ).toBeTruthy();
    expect(validate(form({ datasetMode: 'version' }), trans).datasetId).toBeTruthy();
    expect(
      validate(form({ datasetMode: 'version', datasetId: 'ds-1' }), trans)
    ).toEqual({});
  });

  it('is never sent with an export', () => {
    const up = {
      ...newForm('upload', folder),
      tool: 's3' as const,
      uri: 's3://b/p',
      datasetMode: 'new' as const,
      datasetName: 'x'
    };
    expect(validate(up, trans)).toEqual({});
    expect(transferBody(up).dataset).toBeUndefined();
  });
});

describe('a download into a new volume', () => {
  const made = {
    into: 'newVolume' as const,
    newVolumeName: 'datacube-pvc',
    newVolumeCapacity: '20 Gi',
    newVolumeType: 'hdd' as const,
    newVolumePath: '/dev/git/'
  };

  it('asks the registry to create the volume with the transfer', () => {
    expect(transferBody(form(made)).sink).toEqual({
      type: 'volume',
      path: 'dev/git',
      create_volume: { name: 'datacube-pvc', capacity: '20Gi', type: 'hdd' }
    });
    // the folder the form was opened on is not used then
    expect(JSON.stringify(transferBody(form(made)))).not.toContain('vol-1');
  });

  it('needs a name and a size', () => {
    const errors = validate(
      form({ ...made, newVolumeName: ' ', newVolumeCapacity: 'lots' }),
      trans
    );
    expect(Object.keys(errors).sort()).toEqual(['newVolumeCapacity', 'newVolumeName']);
    expect(validate(form({ ...made, newVolumeCapacity: '500GB' }), trans)).toEqual({});
  });

  it('is offered only for downloads from a volume', () => {
    const up = { ...newForm('upload', folder), ...made, url: 'https://h/x.git' };
    expect(transferBody(up).source).toEqual({
      type: 'volume',
      volume_id: 'vol-1',
      path: 'raw'
    });
  });
});

describe('a refusal on its field', () => {
  it('finds the policy field, before the tool fields its message may name', () => {
    const f = form();
    // the registry's allow-list (fermi_jupyter/transfers/arguments.py)
    expect(
      fieldOfError(
        "'--upload-pack' is not an allowed git download option; allowed: --depth, --filter",
        f
      )
    ).toBe('extraArgs');
    expect(fieldOfError('--depth takes a whole number from 1 to 10000', f)).toBe(
      'extraArgs'
    );
    expect(fieldOfError('--filter needs a value', f)).toBe('extraArgs');
    // a clash names a variable such as URL or TOKEN: still the environment
    expect(
      fieldOfError(
        'environment variable URL has the name of a transfer option; set the option instead',
        f
      )
    ).toBe('env');
    expect(
      fieldOfError(
        'environment variable GIT_DIR is set by the transfer itself or could change what it runs; it cannot be given',
        f
      )
    ).toBe('env');
    expect(fieldOfError('backoff_limit is a whole number from 0 to 10', f)).toBe(
      'retries'
    );
    expect(
      fieldOfError('active_deadline_seconds is a whole number of seconds from 1', f)
    ).toBe('deadline');
    // the extension's own checks name the field
    expect(fieldOfError('policy.extra_args may list at most 50 entries', f)).toBe(
      'extraArgs'
    );
    expect(fieldOfError('policy.env.X must be a string', f)).toBe('env');
  });

  it('finds the new volume and dataset fields', () => {
    const nv = form({ into: 'newVolume' });
    expect(fieldOfError('sink.create_volume.type must be one of ssd, hdd', nv)).toBe(
      'newVolumeType'
    );
    expect(fieldOfError("you already have a volume named 'datacube-pvc'", nv)).toBe(
      'newVolumeName'
    );
    expect(
      fieldOfError("capacity must be a size such as 500Gi or 20GB, not 'x'", nv)
    ).toBe('newVolumeCapacity');
    expect(
      fieldOfError(
        "you already have a dataset named 'code'; import as a new version of it",
        form({ datasetMode: 'new' })
      )
    ).toBe('datasetName');
    expect(
      fieldOfError(
        "only bob may add versions to 'shared-data'",
        form({ datasetMode: 'version' })
      )
    ).toBe('datasetId');
    expect(
      fieldOfError(
        "no dataset 'ds-9' that you can see",
        form({ datasetMode: 'version' })
      )
    ).toBe('datasetId');
  });
});
