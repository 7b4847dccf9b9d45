import { nullTranslator } from '@jupyterlab/translation';

import {
  CredentialsModel,
  draftBody,
  draftFieldOfError,
  newDraft,
  validateDraft
} from '../credentials';
import { ICredential } from '../tokens';
import { fakeApi } from './fakeApi';

const trans = nullTranslator.load('fermi_jupyter');

function cred(name: string, type: ICredential['type'] = 'git'): ICredential {
  return {
    name,
    type,
    fields: type === 's3' ? ['access_key_id', 'secret_access_key'] : ['token']
  };
}

describe('the new-credential form', () => {
  it('needs a name and the secret of its type', () => {
    expect(Object.keys(validateDraft(newDraft('git'), trans)).sort()).toEqual([
      'name',
      'token'
    ]);
    expect(
      Object.keys(validateDraft({ ...newDraft('s3'), name: 'minio' }, trans)).sort()
    ).toEqual(['accessKeyId', 'secretAccessKey']);
    expect(
      validateDraft({ ...newDraft('huggingface'), name: '-x', token: 't' }, trans).name
    ).toBeTruthy();
    expect(validateDraft({ ...newDraft(), name: 'gl', token: 't' }, trans)).toEqual({});
  });

  it('sends only the fields of its type', () => {
    const all = {
      name: ' gl ',
      token: 'tok',
      username: ' me ',
      accessKeyId: 'AK',
      secretAccessKey: 'SK'
    };
    expect(draftBody({ ...all, type: 'git' })).toEqual({
      name: 'gl',
      type: 'git',
      token: 'tok',
      username: 'me'
    });
    expect(draftBody({ ...all, type: 'huggingface' })).toEqual({
      name: 'gl',
      type: 'huggingface',
      token: 'tok'
    });
    expect(draftBody({ ...all, type: 's3' })).toEqual({
      name: 'gl',
      type: 's3',
      access_key_id: 'AK',
      secret_access_key: 'SK'
    });
  });

  it('puts the registry refusal on its field', () => {
    expect(
      draftFieldOfError("you already have a credential named 'gl'; delete it first")
    ).toBe('name');
    expect(draftFieldOfError('secret_access_key is required: one line of text')).toBe(
      'secretAccessKey'
    );
    expect(draftFieldOfError('token is required: one line of text')).toBe('token');
    expect(draftFieldOfError('the registry is not reachable')).toBeNull();
  });
});

describe('CredentialsModel', () => {
  it('lists by type and name, stores and deletes through the server', async () => {
    const api = fakeApi();
    api.credentials.mockResolvedValue({
      items: [cred('z'), cred('minio', 's3'), cred('a')]
    });
    const model = new CredentialsModel(api);
    let changes = 0;
    model.stateChanged.connect(() => changes++);
    await model.refresh();
    expect(model.loaded).toBe(true);
    expect(model.items.map(c => c.name)).toEqual(['a', 'z', 'minio']);

    api.createCredential.mockResolvedValue(cred('hf', 'huggingface'));
    await model.create({ name: 'hf', type: 'huggingface', token: 'hf_x' });
    expect(api.createCredential).toHaveBeenCalledWith({
      name: 'hf',
      type: 'huggingface',
      token: 'hf_x'
    });
    expect(model.items.map(c => c.name)).toEqual(['a', 'z', 'hf', 'minio']);
    expect(JSON.stringify(model.items)).not.toContain('hf_x');

    api.deleteCredential.mockResolvedValue(undefined);
    await model.remove('z');
    expect(api.deleteCredential).toHaveBeenCalledWith('z');
    expect(model.items.map(c => c.name)).toEqual(['a', 'hf', 'minio']);
    expect(changes).toBe(3);
    model.dispose();
  });

  it('keeps the list when a delete is refused, and says why a list failed', async () => {
    const api = fakeApi();
    api.credentials.mockResolvedValue({ items: [cred('a')] });
    const model = new CredentialsModel(api);
    await model.refresh();
    api.deleteCredential.mockRejectedValue(new Error('no credential named a'));
    await expect(model.remove('a')).rejects.toThrow('no credential named a');
    expect(model.items.map(c => c.name)).toEqual(['a']);
    api.credentials.mockRejectedValue(new Error('registry down'));
    await model.refresh();
    expect(model.error).toBe('registry down');
    model.dispose();
  });
});
