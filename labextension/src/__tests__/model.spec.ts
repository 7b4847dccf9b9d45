import { DataModel, IVersionChange } from '../model';
import { FermiApiError } from '../tokens';
import { dataset, fakeApi, flush, page, version, volume } from './fakeApi';

function event(over: Record<string, unknown> = {}) {
  return {
    dataset_id: 'ds-1',
    dataset_name: 'imagenet',
    number: 2,
    ref: 'ds-1@2',
    status: 'processing' as const,
    progress: { files_done: 5, files_total: 10, bytes_done: 50, bytes_total: 100 },
    ...over
  };
}

describe('DataModel', () => {
  it('loads mounts, volumes, datasets and who it acts as', async () => {
    const api = fakeApi();
    api.datasets.mockResolvedValue(page([dataset()]));
    const model = new DataModel({ api, debounce: 0 });
    expect(model.datasets.loaded).toBe(false);
    await model.refresh();
    expect(model.volumes.items[0].name).toBe('work-storage');
    expect(model.datasets.items.map(d => d.id)).toEqual(['ds-1']);
    expect(model.mounts.loaded).toBe(true);
    expect(model.info?.user).toBe('alice');
    expect(model.owns(dataset({ owner: 'alice' }))).toBe(true);
    expect(model.owns(dataset({ owner: 'bob' }))).toBe(false);
  });

  it('keeps the message of a failed load and what it had', async () => {
    const api = fakeApi();
    api.volumes.mockRejectedValueOnce(
      new FermiApiError('the registry cannot be reached', 502, 'registry-unavailable')
    );
    const model = new DataModel({ api, debounce: 0 });
    await model.refreshVolumes();
    expect(model.volumes.error).toBe('the registry cannot be reached');
    expect(model.volumes.loaded).toBe(true);
    await model.refreshVolumes();
    expect(model.volumes.error).toBeNull();
  });

  it('measures a volume that changed alone, and lists again for one it does not know', async () => {
    const api = fakeApi();
    api.volumes.mockResolvedValue(
      page([
        volume(),
        volume({ id: 'vol-2', name: 'scratch', usage: { bytes: 1, files: 1 } })
      ])
    );
    const model = new DataModel({ api, debounce: 0 });
    await model.refreshVolumes();
    const changed: string[] = [];
    model.volumeChanged.connect((_, id) => changed.push(id));
    api.volume.mockResolvedValueOnce(
      volume({ id: 'vol-2', name: 'scratch', usage: { bytes: 5000, files: 7 } })
    );
    model.volumeTouched('vol-2');
    await flush();
    expect(api.volume).toHaveBeenCalledWith('vol-2');
    expect(api.volumes).toHaveBeenCalledTimes(1); // not the whole list again
    expect(model.volumes.items.map(v => [v.id, v.usage?.bytes])).toEqual([
      ['vol-1', 100 * 2 ** 30],
      ['vol-2', 5000]
    ]);
    model.volumeTouched('vol-new'); // created by the download: only the list has it
    await flush();
    expect(api.volumes).toHaveBeenCalledTimes(2);
    expect(changed).toEqual(['vol-2', 'vol-new']);
  });

  it('searches with the query and scope, and ignores answers to older searches', async () => {
    const api = fakeApi();
    let answer: (v: unknown) => void = () => undefined;
    api.datasets
      .mockImplementationOnce(() => new Promise(resolve => (answer = resolve)))
      .mockResolvedValueOnce(page([dataset({ id: 'ds-new', name: 'new' })]));
    const model = new DataModel({ api, debounce: 0 });
    const slow = model.refreshDatasets();
    model.scope = 'mine';
    model.query = 'new';
    await model.refreshDatasets();
    answer(page([dataset({ id: 'ds-old' })]));
    await slow;
    expect(model.datasets.items.map(d => d.id)).toEqual(['ds-new']);
    expect(api.datasets).toHaveBeenLastCalledWith({
      q: 'new',
      scope: 'mine',
      limit: 200
    });
  });

  it('loads more datasets with the cursor', async () => {
    const api = fakeApi();
    api.datasets
      .mockResolvedValueOnce(page([dataset({ id: 'a' })], 'c1'))
      .mockResolvedValueOnce(page([dataset({ id: 'b' })], null));
    const model = new DataModel({ api, debounce: 0 });
    await model.refreshDatasets();
    expect(model.datasets.next).toBe('c1');
    await model.loadMoreDatasets();
    expect(model.datasets.items.map(d => d.id)).toEqual(['a', 'b']);
    expect(api.datasets).toHaveBeenLastCalledWith(
      expect.objectContaining({ cursor: 'c1' })
    );
    expect(model.datasets.next).toBeNull();
  });

  it('opens a dataset to its versions, newest first', async () => {
    const api = fakeApi();
    api.versions.mockResolvedValue(
      page([version({ number: 1 }), version({ number: 3 }), version({ number: 2 })])
    );
    const model = new DataModel({ api, debounce: 0 });
    await model.toggle('ds-1');
    expect(model.expanded.has('ds-1')).toBe(true);
    expect(model.versions.get('ds-1')?.items.map(v => v.number)).toEqual([3, 2, 1]);
    expect(model.previousOf(version({ number: 3 }))?.number).toBe(2);
    await model.toggle('ds-1');
    expect(model.expanded.has('ds-1')).toBe(false);
  });

  it('applies events: progress while processing, then ready, telling listeners once', async () => {
    const api = fakeApi();
    api.datasets.mockResolvedValue(page([dataset({ latest: 1 })]));
    api.versions.mockResolvedValue(page([version({ number: 1 })]));
    api.version.mockResolvedValue(version({ number: 2, status: 'ready', files: 10 }));
    const model = new DataModel({ api, debounce: 0 });
    await model.refresh();
    await model.toggle('ds-1');
    const changes: IVersionChange[] = [];
    model.versionChanged.connect((_, c) => changes.push(c));

    model.applyEvent(event({ status: 'pending', progress: undefined }));
    model.applyEvent(event());
    expect(model.running.map(v => v.ref)).toEqual(['ds-1@2']);
    const v2 = model.versions.get('ds-1')?.items[0];
    expect(v2?.number).toBe(2);
    expect(v2?.progress.files_done).toBe(5);
    expect(v2?.label).toBe('imagenet@2');

    model.applyEvent(event()); // the same status again: no new change
    model.applyEvent(event({ status: 'ready' }));
    await flush();
    expect(model.running).toEqual([]);
    expect(changes.map(c => [c.previous, c.version.status])).toEqual([
      [null, 'pending'],
      ['pending', 'processing'],
      ['processing', 'ready']
    ]);
    expect(model.datasetById('ds-1')?.latest).toBe(2);
    // the finished version is fetched again for its size and file count
    expect(api.version).toHaveBeenCalledWith('ds-1', 2);
    expect(model.versions.get('ds-1')?.items[0].files).toBe(10);
  });

  it('moves "latest" to a version that turns ready, from the one before', async () => {
    const api = fakeApi();
    api.datasets.mockResolvedValue(page([dataset({ latest: 1 })]));
    api.versions.mockResolvedValue(
      page([version({ number: 1, aliases: ['latest', 'stable'] })])
    );
    api.version.mockRejectedValue(new Error('offline')); // only the event tells
    const model = new DataModel({ api, debounce: 0 });
    await model.refresh();
    await model.toggle('ds-1');
    const aliases = () =>
      model.versions.get('ds-1')?.items.map(v => [v.number, v.aliases]);

    model.applyEvent(event({ status: 'processing' }));
    expect(aliases()).toEqual([
      [2, undefined],
      [1, ['latest', 'stable']]
    ]);
    model.applyEvent(event({ status: 'ready' }));
    await flush();
    expect(aliases()).toEqual([
      [2, ['latest']],
      [1, ['stable']]
    ]);
  });

  it('reloads when an event names a dataset it has not seen', async () => {
    const api = fakeApi();
    const model = new DataModel({ api, debounce: 0 });
    await model.refreshDatasets();
    const calls = api.datasets.mock.calls.length;
    model.applyEvent(event({ dataset_id: 'ds-other', ref: 'ds-other@1', number: 1 }));
    await new Promise(resolve => setTimeout(resolve, 600)); // the resync is debounced
    expect(api.datasets.mock.calls.length).toBeGreaterThan(calls);
  });

  it('shows a version the user just registered at once', async () => {
    const api = fakeApi();
    api.datasets.mockResolvedValue(page([dataset()]));
    api.versions.mockResolvedValue(page([version({ number: 1 })]));
    const model = new DataModel({ api, debounce: 0 });
    await model.refresh();
    await model.toggle('ds-1');
    model.addVersion(version({ number: 2, status: 'pending', ref: 'ds-1@2' }));
    expect(model.versions.get('ds-1')?.items.map(v => v.number)).toEqual([2, 1]);
    expect(model.running).toHaveLength(1);
  });

  it('tells once when a list, not the event, is the first to show a registration finished', async () => {
    const api = fakeApi();
    api.datasets.mockResolvedValue(page([dataset()]));
    api.versions.mockResolvedValue(page([version({ number: 1 })]));
    const model = new DataModel({ api, debounce: 0 });
    await model.refresh();
    const changes: IVersionChange[] = [];
    model.versionChanged.connect((_, c) => changes.push(c));
    model.addVersion(version({ number: 2, status: 'pending', ref: 'ds-1@2' }));
    // the wizard opens the dataset; the job is faster than the event stream
    api.versions.mockResolvedValue(
      page([
        version({ number: 1 }),
        version({ number: 2, status: 'ready', ref: 'ds-1@2' })
      ])
    );
    await model.toggle('ds-1');
    model.applyEvent(event({ status: 'ready' }));
    await flush();
    expect(changes.map(c => [c.previous, c.version.status])).toEqual([
      ['pending', 'ready']
    ]);
    expect(model.running).toEqual([]);
  });

  it('keeps a finished version finished when an older list still calls it running', async () => {
    const api = fakeApi();
    api.datasets.mockResolvedValue(page([dataset()]));
    api.versions.mockResolvedValue(page([version({ number: 1 })]));
    api.version.mockResolvedValue(
      version({ number: 2, status: 'ready', ref: 'ds-1@2' })
    );
    const model = new DataModel({ api, debounce: 0 });
    await model.refresh();
    await model.toggle('ds-1');
    model.applyEvent(event());
    model.applyEvent(event({ status: 'ready' }));
    await flush();
    // a refresh asked for before the last event answers after it
    api.versions.mockResolvedValue(
      page([
        version({ number: 1 }),
        version({ number: 2, status: 'processing', ref: 'ds-1@2' })
      ])
    );
    await model.loadVersions('ds-1');
    model.applyEvent(event()); // a late copy of an earlier event
    expect(model.versions.get('ds-1')?.items[0].status).toBe('ready');
    expect(model.running).toEqual([]);
  });
});
