import { DirectoryModel } from '../tree';
import { entries, fakeApi, tree } from './fakeApi';

describe('DirectoryModel', () => {
  it('loads a folder a page at a time', async () => {
    const api = fakeApi();
    api.tree
      .mockResolvedValueOnce(tree(entries(3), 'f000002'))
      .mockResolvedValueOnce(tree(entries(2, 'f', 3), null));
    const dir = new DirectoryModel({ api, volumeId: 'vol-1', pageSize: 3 });
    await dir.open('a/b/');
    expect(dir.path).toBe('a/b');
    expect(dir.crumbs).toEqual([
      ['a', 'a'],
      ['a/b', 'b']
    ]);
    expect(dir.entries).toHaveLength(3);
    expect(dir.next).toBe('f000002');
    await dir.loadMore();
    expect(dir.entries.map(e => e.name)).toEqual([
      'f000000',
      'f000001',
      'f000002',
      'f000003',
      'f000004'
    ]);
    expect(api.tree).toHaveBeenLastCalledWith(
      'vol-1',
      'a/b',
      expect.objectContaining({ cursor: 'f000002', limit: 3 })
    );
    await dir.loadMore(); // no cursor: nothing to ask
    expect(api.tree).toHaveBeenCalledTimes(2);
  });

  it('cancels a search: the request is aborted and its answer ignored', async () => {
    const api = fakeApi();
    let signal: AbortSignal | undefined;
    let answer: (v: unknown) => void = () => undefined;
    api.tree.mockImplementationOnce(
      (_v: string, _p: string, q: { signal?: AbortSignal }) => {
        signal = q.signal;
        return new Promise(resolve => (answer = resolve));
      }
    );
    const dir = new DirectoryModel({ api, volumeId: 'vol-1' });
    const searching = dir.search('needle');
    expect(dir.searching).toBe(true);
    dir.cancel();
    expect(signal?.aborted).toBe(true);
    expect(dir.searching).toBe(false);
    answer(tree(entries(2)));
    await searching;
    expect(dir.entries).toEqual([]);
    expect(api.tree).toHaveBeenCalledWith(
      'vol-1',
      '',
      expect.objectContaining({ q: 'needle' })
    );
  });

  it('keeps the server message when a folder cannot be read', async () => {
    const api = fakeApi();
    api.tree.mockRejectedValueOnce(new Error('no such folder: gone'));
    const dir = new DirectoryModel({ api, volumeId: 'vol-1' });
    await dir.open('gone');
    expect(dir.error).toBe('no such folder: gone');
    expect(dir.loading).toBe(false);
  });
});
