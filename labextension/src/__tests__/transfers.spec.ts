import { nullTranslator } from '@jupyterlab/translation';

import { TransfersModel } from '../transferModel';
import {
  credentialBody,
  credentialsFor,
  describePlace,
  describeTransfer,
  fieldOfError,
  ITransferForm,
  LocalPlace,
  NEW_CREDENTIAL,
  newForm,
  registeredVersion,
  toolsFor,
  transferBody,
  transferFraction,
  validate
} from '../transfers';
import { ITransfer } from '../tokens';
import { fakeApi, flush, page } from './fakeApi';

const trans = nullTranslator.load('fermi_jupyter');
const folder: LocalPlace = {
  kind: 'volume',
  volumeId: 'vol-1',
  volumeName: 'work',
  path: 'raw/code'
};

function form(over: Partial<ITransferForm> = {}, local = folder): ITransferForm {
  return { ...newForm('download', local), ...over };
}

function transfer(over: Partial<ITransfer> = {}): ITransfer {
  return {
    id: 'tr-1',
    direction: 'download',
    tool: 'git',
    state: 'running',
    attempts: 1,
    progress: { files_done: 0, bytes_done: 0, files_total: null, bytes_total: null },
    ...over
  };
}

describe('validate', () => {
  it('asks for the fields each tool needs', () => {
    expect(Object.keys(validate(form({ tool: 'git' }), trans))).toEqual(['url']);
    expect(
      Object.keys(validate(form({ tool: 'huggingface', repo: 'x' }), trans))
    ).toEqual(['repo']);
    expect(Object.keys(validate(form({ tool: 's3', uri: 'bucket/x' }), trans))).toEqual(
      ['uri']
    );
    expect(validate(form({ tool: 's3', uri: 's3://bucket/x' }), trans)).toEqual({});
    expect(validate(form({ url: 'https://git.example.org/a.git' }), trans)).toEqual({});
  });

  it('refuses a URL that is not http(s) or git, before asking the server', () => {
    expect(validate(form({ url: '/etc/passwd' }), trans).url).toMatch(/https:\/\//);
    expect(validate(form({ url: 'ssh://host/x' }), trans).url).toBeTruthy();
  });

  it('needs a name and the secret of a new credential, by type', () => {
    const git = form({ url: 'https://h/x.git', credential: NEW_CREDENTIAL });
    expect(Object.keys(validate(git, trans)).sort()).toEqual(['newName', 'token']);
    const s3 = form({
      tool: 's3',
      uri: 's3://b',
      credential: NEW_CREDENTIAL,
      newName: 'minio'
    });
    expect(Object.keys(validate(s3, trans)).sort()).toEqual([
      'accessKeyId',
      'secretAccessKey'
    ]);
    expect(
      validate({ ...git, newName: '-bad', token: 't' }, trans).newName
    ).toBeTruthy();
  });

  it('checks the dataset name and the retries', () => {
    const ok = form({ url: 'https://h/x.git' });
    expect(
      validate({ ...ok, datasetMode: 'new', datasetName: 'my data' }, trans).datasetName
    ).toBeTruthy();
    expect(validate({ ...ok, retries: 11 }, trans).retries).toBeTruthy();
    expect(
      validate({ ...ok, retries: 2, datasetMode: 'new', datasetName: 'code-v1' }, trans)
    ).toEqual({});
  });
});

describe('transferBody', () => {
  it('downloads Git into the folder, with only the fields given', () => {
    const body = transferBody(
      form({ url: ' https://h/x.git ', ref: '', credential: 'gitlab', retries: 2 })
    );
    expect(body).toEqual({
      source: { type: 'git', url: 'https://h/x.git', credential: 'gitlab' },
      sink: { type: 'volume', volume_id: 'vol-1', path: 'raw/code' },
      policy: { backoff_limit: 2 }
    });
  });

  it('imports Hugging Face files as a dataset', () => {
    const body = transferBody(
      form({
        tool: 'huggingface',
        repo: 'openai/whisper-tiny',
        repoType: 'dataset',
        files: '*.json, model.safetensors',
        pathInRepo: 'ignored on download',
        datasetMode: 'new',
        datasetName: 'whisper'
      })
    );
    expect(body.source).toEqual({
      type: 'huggingface',
      repo: 'openai/whisper-tiny',
      repo_type: 'dataset',
      files: ['*.json', 'model.safetensors']
    });
    expect(body.dataset).toEqual({ name: 'whisper' });
  });

  it('syncs S3 only on downloads, and exports a dataset version', () => {
    const s3 = { tool: 's3' as const, uri: 's3://b/p', sync: true, region: 'eu' };
    expect(transferBody(form(s3)).policy).toEqual({ sync: true });
    const out = transferBody({
      ...newForm('upload', { kind: 'dataset', version: 'imagenet@3' }),
      ...s3,
      noCheckBucket: true,
      datasetName: 'not on uploads'
    });
    expect(out).toEqual({
      source: { type: 'dataset', version: 'imagenet@3' },
      sink: { type: 's3', uri: 's3://b/p', region: 'eu', no_check_bucket: true }
    });
  });

  it('names a new credential, whose secret goes only into the credential body', () => {
    const f = form({
      url: 'https://h/x.git',
      credential: NEW_CREDENTIAL,
      newName: 'lab',
      token: 's3cret'
    });
    expect(credentialBody(f)).toEqual({ name: 'lab', type: 'git', token: 's3cret' });
    expect(JSON.stringify(transferBody(f))).not.toContain('s3cret');
    expect(transferBody(f).source.credential).toBe('lab');
    expect(credentialBody(form({ credential: 'x' }))).toBeNull();
  });
});

describe('the form around the server', () => {
  it('offers no Git push for a dataset version, and credentials of the tool only', () => {
    expect(toolsFor(newForm('upload', { kind: 'dataset', version: 'a@1' }))).toEqual([
      'huggingface',
      's3'
    ]);
    const all = [
      { name: 'z', type: 'git' as const, fields: ['token'] },
      { name: 'hf', type: 'huggingface' as const, fields: ['token'] },
      { name: 'a', type: 'git' as const, fields: ['token'] }
    ];
    expect(credentialsFor(all, 'git').map(c => c.name)).toEqual(['a', 'z']);
  });

  it('puts a refusal on the field it is about', () => {
    const f = form({ url: 'x' });
    expect(fieldOfError('source.url is required', f)).toBe('url');
    expect(fieldOfError('a Git URL must be https://, http:// or git://', f)).toBe(
      'url'
    );
    expect(fieldOfError("you have no credential named 'x'", f)).toBe('credential');
    expect(
      fieldOfError('the name is taken', { ...f, credential: NEW_CREDENTIAL })
    ).toBeNull();
    expect(fieldOfError('bucket not found', { ...f, tool: 's3' })).toBe('uri');
  });

  it('measures progress by bytes, else files, else not at all', () => {
    expect(
      transferFraction({
        bytes_done: 5,
        bytes_total: 10,
        files_done: 0,
        files_total: 0
      })
    ).toBe(0.5);
    expect(
      transferFraction({
        bytes_done: 0,
        bytes_total: null,
        files_done: 1,
        files_total: 4
      })
    ).toBe(0.25);
    expect(
      transferFraction({
        bytes_done: 9,
        bytes_total: null,
        files_done: 1,
        files_total: null
      })
    ).toBeNull();
  });
});

describe('describeTransfer', () => {
  const names = {
    volume: (id: string) => ({ 'vol-1': 'work' })[id],
    dataset: (id: string) => ({ 'ds-abc': 'imagenet' })[id]
  };

  it('names volumes and datasets, and keeps the ids it cannot name', () => {
    const t = transfer({
      direction: 'upload',
      tool: 's3',
      source: { type: 'dataset', version: 'ds-abc@3' },
      sink: { type: 's3', uri: 's3://bucket/x' }
    });
    expect(describeTransfer(t, names)).toBe('imagenet@3 → s3://bucket/x');
    expect(describeTransfer(t)).toBe('ds-abc@3 → s3://bucket/x');
    const other = transfer({
      source: { type: 'git', url: 'https://h/x.git' },
      sink: { type: 'volume', volume_id: 'vol-2', path: 'in' }
    });
    expect(describeTransfer(other, names)).toBe('https://h/x.git → vol-2:in');
    const root = transfer({ sink: { type: 'volume', volume_id: 'vol-1', path: '' } });
    expect(describePlace(root.sink, names)).toBe('work:/');
  });

  it("shows the version an import registered by its dataset's name", () => {
    expect(registeredVersion(transfer(), names)).toBeNull();
    expect(registeredVersion(transfer({ version: 'ds-abc@2' }), names)).toBe(
      'imagenet@2'
    );
    // not listed in the sidebar yet: the name the import asked for
    const asked = transfer({ version: 'ds-new@1', dataset: { name: 'corpus' } });
    expect(registeredVersion(asked, names)).toBe('corpus@1');
    const byId = transfer({ version: 'ds-new@1', dataset: { id: 'ds-new' } });
    expect(registeredVersion(byId, names)).toBe('ds-new@1');
  });
});

describe('TransfersModel', () => {
  it('follows events and says when a watched transfer ends', async () => {
    const api = fakeApi();
    api.transfers.mockResolvedValue(page([transfer()]));
    const model = new TransfersModel({ api, debounce: 0 });
    await model.refresh();
    const ended: ITransfer[] = [];
    model.finished.connect((_, t) => ended.push(t));
    model.applyEvent({
      id: 'tr-1',
      state: 'running',
      attempts: 2,
      progress: { files_done: 3, bytes_done: 30, files_total: 6, bytes_total: 60 }
    });
    expect(model.items[0].attempts).toBe(2);
    expect(transferFraction(model.items[0].progress)).toBe(0.5);
    expect(ended).toEqual([]);
    model.applyEvent({
      id: 'tr-1',
      state: 'failed',
      reason: 'unauthorized',
      error: 'no'
    });
    expect(ended.map(t => [t.state, t.reason])).toEqual([['failed', 'unauthorized']]);
    model.applyEvent({ id: 'tr-1', state: 'failed' });
    expect(ended.length).toBe(1); // once
    model.dispose();
  });

  it('fetches the list for a transfer started elsewhere, and adds one started here', async () => {
    const api = fakeApi();
    const model = new TransfersModel({ api, debounce: 0 });
    await model.refresh();
    api.transfers.mockResolvedValue(page([transfer({ id: 'tr-9' })]));
    model.applyEvent({ id: 'tr-9', state: 'running' });
    await new Promise(r => setTimeout(r, 10));
    await flush();
    expect(model.items.map(t => t.id)).toEqual(['tr-9']);
    model.add(transfer({ id: 'tr-10', state: 'pending' }));
    expect(model.items.map(t => t.id)).toEqual(['tr-10', 'tr-9']);
    expect(model.active.length).toBe(2);
    model.dispose();
  });

  it('never takes a finished transfer back to running (a stale list, a late event)', async () => {
    const api = fakeApi();
    api.transfers.mockResolvedValue(page([transfer()]));
    const model = new TransfersModel({ api, pollSeconds: 0 });
    await model.refresh();
    model.applyEvent({ id: 'tr-1', state: 'complete' });
    await model.refresh(); // fetched before the end: still says running
    expect(model.items[0].state).toBe('complete');
    model.applyEvent({ id: 'tr-1', state: 'running', attempts: 1 });
    expect(model.items[0].state).toBe('complete');
    model.dispose();
  });

  it('fetches the list again while transfers run, so a missed event cannot stick', async () => {
    jest.useFakeTimers();
    const api = fakeApi();
    api.transfers.mockResolvedValue(page([transfer()]));
    const model = new TransfersModel({ api, pollSeconds: 5 });
    await model.refresh();
    api.transfers.mockResolvedValue(page([transfer({ state: 'complete' })]));
    jest.advanceTimersByTime(5000);
    jest.useRealTimers();
    await flush();
    expect(model.items[0].state).toBe('complete');
    const calls = api.transfers.mock.calls.length;
    await new Promise(r => setTimeout(r, 20));
    expect(api.transfers.mock.calls.length).toBe(calls); // nothing runs: no more polling
    model.dispose();
  });

  it('cancels through the server and takes its answer', async () => {
    const api = fakeApi();
    api.transfers.mockResolvedValue(page([transfer()]));
    api.cancelTransfer.mockResolvedValue(
      transfer({ state: 'cancelled', reason: 'cancelled' })
    );
    const model = new TransfersModel({ api });
    await model.refresh();
    const ended: string[] = [];
    model.finished.connect((_, t) => ended.push(t.state));
    await model.cancel('tr-1');
    expect(api.cancelTransfer).toHaveBeenCalledWith('tr-1');
    expect(model.items[0].state).toBe('cancelled');
    expect(model.active).toEqual([]);
    expect(ended).toEqual(['cancelled']);
    model.dispose();
  });

  it('shows more, a page at a time, and keeps the pages shown on a refresh', async () => {
    const api = fakeApi();
    const t = (n: number, state: ITransfer['state'] = 'complete') =>
      transfer({
        id: `tr-${String(n).padStart(2, '0')}`,
        state,
        created_at: `2026-11-26T07:${String(n).padStart(2, '0')}:00+00:00`
      });
    // newest first: 10, 9, … 1
    api.transfers.mockImplementation(({ cursor } = {}) =>
      Promise.resolve(
        cursor === 'c1'
          ? page([t(7), t(6, 'running'), t(5)], 'c2')
          : cursor === 'c2'
            ? page([t(4), t(3)], null)
            : page([t(10), t(9), t(8)], 'c1')
      )
    );
    api.transfer.mockImplementation((id: string) =>
      Promise.resolve({ ...t(Number(id.slice(3))), state: 'complete' as const })
    );
    const model = new TransfersModel({ api, pageSize: 3, pollSeconds: 0 });
    await model.refresh();
    expect(api.transfers).toHaveBeenLastCalledWith({ limit: 3 });
    expect(model.items.map(x => x.id)).toEqual(['tr-10', 'tr-09', 'tr-08']);
    expect(model.nextCursor).toBe('c1');
    await model.loadMore();
    expect(api.transfers).toHaveBeenLastCalledWith({ cursor: 'c1', limit: 3 });
    expect(model.items.length).toBe(6);
    expect(model.active.map(x => x.id)).toEqual(['tr-06']);

    // a new transfer arrives: the first page moves by one, the older pages stay
    api.transfers.mockImplementation(({ cursor } = {}) =>
      Promise.resolve(
        cursor ? page([], null) : page([t(11, 'running'), t(10), t(9)], 'c0')
      )
    );
    const ended: string[] = [];
    model.finished.connect((_, x) => ended.push(x.id));
    await model.refresh();
    expect(model.items.map(x => x.id)).toEqual([
      'tr-11',
      'tr-10',
      'tr-09',
      'tr-08',
      'tr-07',
      'tr-06',
      'tr-05'
    ]);
    expect(model.nextCursor).toBe('c2'); // where the shown pages end
    // the running one on an older page was asked for again: it ended meanwhile
    expect(api.transfer).toHaveBeenCalledWith('tr-06');
    expect(model.items.find(x => x.id === 'tr-06')?.state).toBe('complete');
    expect(ended).toEqual(['tr-06']);
    // live events reach a transfer on any page
    model.applyEvent({ id: 'tr-11', state: 'failed', reason: 'deadline' });
    expect(model.items[0].state).toBe('failed');

    api.transfers.mockImplementation(() => Promise.resolve(page([t(4), t(3)], null)));
    await model.loadMore();
    expect(model.items.length).toBe(9);
    expect(model.nextCursor).toBeNull();
    await model.loadMore(); // nothing more to ask for
    expect(api.transfers).toHaveBeenCalledTimes(4);
    model.dispose();
  });

  it('says why "Show more" failed, and keeps what is shown', async () => {
    const api = fakeApi();
    api.transfers.mockResolvedValue(page([transfer()], 'c1'));
    const model = new TransfersModel({ api, pollSeconds: 0 });
    await model.refresh();
    api.transfers.mockRejectedValue(new Error('registry down'));
    await model.loadMore();
    expect(model.moreError).toBe('registry down');
    expect(model.items.length).toBe(1);
    expect(model.nextCursor).toBe('c1');
    expect(model.loadingMore).toBe(false);
    model.dispose();
  });

  it('shows why the list could not be loaded', async () => {
    const api = fakeApi();
    api.transfers.mockRejectedValue(new Error('registry down'));
    const model = new TransfersModel({ api });
    await model.refresh();
    expect(model.error).toBe('registry down');
    model.dispose();
  });
});
