/** An IFermiApi whose every method is a jest mock; tests give the answers. */
import {
  IDataset,
  IFermiApi,
  IPage,
  ITransfer,
  ITree,
  ITreeEntry,
  IVersion,
  IVolume
} from '../tokens';

export type Mocked<T> = { [K in keyof T]: T[K] & jest.Mock };

export function page<T>(items: T[], next: string | null = null): IPage<T> {
  return { items, next_cursor: next };
}

export function volume(over: Partial<IVolume> = {}): IVolume {
  return {
    id: 'vol-1',
    name: 'work-storage',
    owner: 'alice',
    capacity_bytes: 500 * 2 ** 30,
    type: 'ssd',
    usage: { bytes: 100 * 2 ** 30, files: 10 },
    mount_path: '/workspace',
    zone: 'zone-a',
    ...over
  };
}

export function dataset(over: Partial<IDataset> = {}): IDataset {
  return {
    id: 'ds-1',
    name: 'imagenet',
    owner: 'alice',
    visibility: 'private',
    tags: [],
    latest: 1,
    aliases: {},
    mounted_here: [],
    ...over
  };
}

export function version(over: Partial<IVersion> = {}): IVersion {
  return {
    dataset_id: 'ds-1',
    dataset_name: 'imagenet',
    number: 1,
    ref: 'ds-1@1',
    label: 'imagenet@1',
    status: 'ready',
    mode: 'snapshot',
    progress: { files_done: 0, files_total: null, bytes_done: 0, bytes_total: null },
    mounted_here: false,
    ...over
  };
}

export function entries(n: number, prefix = 'f', start = 0): ITreeEntry[] {
  return Array.from({ length: n }, (_, i) => ({
    name: `${prefix}${String(start + i).padStart(6, '0')}`,
    path: `${prefix}${String(start + i).padStart(6, '0')}`,
    type: 'dir' as const,
    size: null,
    mtime: null
  }));
}

export function tree(items: ITreeEntry[], next: string | null = null): ITree {
  return {
    volume_id: 'vol-1',
    path: '',
    source: 'local',
    items,
    next_cursor: next,
    truncated: false
  };
}

export function fakeApi(): Mocked<IFermiApi> {
  const rejectAll = () =>
    jest.fn(() => Promise.reject(new Error('not expected in this test')));
  return {
    info: jest.fn(() =>
      Promise.resolve({
        version: '0.1.0',
        user: 'alice',
        registry_configured: true,
        registry_reachable: true,
        mounts: 0
      })
    ),
    mounts: jest.fn(() => Promise.resolve({ items: [], registry_error: null })),
    volumes: jest.fn(() => Promise.resolve(page([volume()]))),
    volume: jest.fn(() => Promise.resolve(volume())),
    tree: jest.fn(() => Promise.resolve(tree([]))),
    summary: rejectAll(),
    datasets: jest.fn(() => Promise.resolve(page<IDataset>([]))),
    createDataset: rejectAll(),
    updateDataset: rejectAll(),
    versions: jest.fn(() => Promise.resolve(page<IVersion>([]))),
    version: rejectAll(),
    registerVersion: rejectAll(),
    cancelVersion: rejectAll(),
    deleteVersion: rejectAll(),
    verify: rejectAll(),
    restore: rejectAll(),
    diff: rejectAll(),
    lineage: rejectAll(),
    jobs: rejectAll(),
    transfers: jest.fn(() => Promise.resolve(page<ITransfer>([]))),
    transfer: rejectAll(),
    createTransfer: rejectAll(),
    cancelTransfer: rejectAll(),
    transferLog: rejectAll(),
    credentials: jest.fn(() => Promise.resolve({ items: [] })),
    createCredential: rejectAll(),
    deleteCredential: rejectAll(),
    eventsUrl: jest.fn((last?: string | null) =>
      last ? `/events?last_event_id=${last}` : '/events'
    )
  } as Mocked<IFermiApi>;
}

/** Lets pending promise callbacks run. */
export async function flush(): Promise<void> {
  for (let i = 0; i < 5; i++) {
    await Promise.resolve();
  }
}
