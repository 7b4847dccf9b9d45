import { ServerConnection } from '@jupyterlab/services';

import { FermiApi, requestAPI } from '../request';
import { FermiApiError } from '../tokens';

function settings(fetch: jest.Mock) {
  return ServerConnection.makeSettings({
    baseUrl: 'http://localhost:8888/user/alice/',
    token: 'secret',
    fetch: fetch as unknown as typeof window.fetch
  });
}

function answer(status: number, body: unknown) {
  const text =
    body === undefined ? '' : typeof body === 'string' ? body : JSON.stringify(body);
  return jest.fn((_request: Request) =>
    Promise.resolve({
      ok: status < 400,
      status,
      statusText: 'x',
      text: () => Promise.resolve(text)
    })
  );
}

/** ServerConnection adds a timestamp to GET URLs against caches. */
function noCacheBuster(url: string): string {
  return url.replace(/[?&]\d{10,}$/, '');
}

describe('request', () => {
  it('calls {base_url}api/fermi/… and returns the JSON', async () => {
    const fetch = answer(200, { items: [], registry_error: null });
    const api = new FermiApi(settings(fetch));
    const list = await api.mounts();
    expect(list.items).toEqual([]);
    const req = fetch.mock.calls[0][0] as Request;
    expect(noCacheBuster(req.url)).toBe(
      'http://localhost:8888/user/alice/api/fermi/mounts'
    );
  });

  it('encodes refs and query parameters', async () => {
    const fetch = answer(200, { items: [], next_cursor: null });
    const api = new FermiApi(settings(fetch));
    await api.tree('vol-1', 'a b/c', { q: 'x&y', cursor: 'c1' });
    await api.versions('alice/imagenet');
    const urls = fetch.mock.calls.map(c => noCacheBuster((c[0] as Request).url));
    expect(urls[0]).toBe(
      'http://localhost:8888/user/alice/api/fermi/volumes/vol-1/tree?path=a%20b%2Fc&q=x%26y&cursor=c1&limit=200'
    );
    expect(urls[1]).toContain(
      '/api/fermi/datasets/alice%2Fimagenet/versions?limit=100'
    );
  });

  it('turns a refusal into FermiApiError with the server message and reason', async () => {
    const fetch = answer(409, {
      message: 'mounted by alice/default',
      reason: 'mounted'
    });
    const api = new FermiApi(settings(fetch));
    await expect(api.deleteVersion('ds-1', 2)).rejects.toEqual(
      new FermiApiError('mounted by alice/default', 409, 'mounted')
    );
  });

  it('says what to do when the server extension is missing', async () => {
    const fetch = answer(404, '<html>not found</html>');
    const error = (await requestAPI('mounts', {}, settings(fetch)).catch(
      e => e
    )) as FermiApiError;
    expect(error).toBeInstanceOf(FermiApiError);
    expect(error.reason).toBe('no-extension');
    expect(error.message).toContain('server extension is not running');
  });

  it('accepts empty answers (204) and puts the token in the event stream URL', async () => {
    const fetch = answer(204, undefined);
    const api = new FermiApi(settings(fetch));
    await expect(api.deleteVersion('ds-1', 1)).resolves.toBeUndefined();
    expect(api.eventsUrl('17')).toBe(
      'http://localhost:8888/user/alice/api/fermi/events?token=secret&last_event_id=17'
    );
  });

  it('puts the XSRF cookie in the event stream URL (JupyterHub refuses tokens in URLs)', () => {
    document.cookie = '_xsrf=2|abc|def|123';
    try {
      const api = new FermiApi(settings(answer(200, {})));
      expect(api.eventsUrl(null)).toBe(
        'http://localhost:8888/user/alice/api/fermi/events?token=secret&_xsrf=2%7Cabc%7Cdef%7C123'
      );
    } finally {
      document.cookie = '_xsrf=; expires=Thu, 01 Jan 1970 00:00:00 GMT';
    }
  });
});
