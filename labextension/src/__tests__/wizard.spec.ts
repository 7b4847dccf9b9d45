import { FermiApiError } from '../tokens';
import { parentOf, parseTags, WizardModel } from '../wizard';
import { dataset, fakeApi, flush, page, version, volume } from './fakeApi';

function summary(type = 'image') {
  return {
    volume_id: 'vol-1',
    path: 'augmented',
    files: 3,
    bytes: 300,
    suggested_data_type: type,
    truncated: false
  };
}

async function atStep3(api = fakeApi()) {
  api.summary.mockResolvedValue(summary());
  const w = new WizardModel({ api, debounce: 0 });
  await w.loadVolumes();
  w.chooseVolume(w.volumes[0]);
  w.next();
  w.choosePath('augmented');
  w.next();
  await flush();
  return { w, api };
}

describe('WizardModel', () => {
  it('walks the three steps and refuses to advance without a choice', async () => {
    const api = fakeApi();
    const w = new WizardModel({ api, debounce: 0 });
    await w.loadVolumes();
    expect(w.step).toBe(1);
    expect(w.canAdvance()).toBe(false);
    w.next();
    expect(w.step).toBe(1);
    expect(w.errors.volume).toBe('volume-required');

    w.chooseVolume(w.volumes[0]);
    expect(w.errors.volume).toBeUndefined();
    w.next();
    expect(w.step).toBe(2);
    expect(w.canAdvance()).toBe(false);
    w.next();
    expect(w.errors.path).toBe('path-required');
    expect(w.step).toBe(2);

    api.summary.mockResolvedValue(summary());
    w.choosePath('augmented');
    expect(w.directory?.selected).toBe('augmented');
    w.next();
    expect(w.step).toBe(3);
    w.back();
    expect(w.step).toBe(2);
  });

  it('suggests the name and the data type from the folder', async () => {
    const { w } = await atStep3();
    expect(w.fields.name).toBe('augmented');
    expect(w.suggestedType).toBe('image');
    expect(w.fields.dataType).toBe('image');
    expect(w.summary?.files).toBe(3);
  });

  it('does not override a data type the user chose', async () => {
    const api = fakeApi();
    api.summary.mockResolvedValue(summary('audio'));
    const w = new WizardModel({ api, debounce: 0 });
    await w.loadVolumes();
    w.chooseVolume(w.volumes[0]);
    w.setField('dataType', 'video');
    w.choosePath('x');
    await flush();
    expect(w.suggestedType).toBe('audio');
    expect(w.fields.dataType).toBe('video');
  });

  it('sends nothing while the name is missing or invalid', async () => {
    const { w, api } = await atStep3();
    w.setField('name', '');
    expect(await w.submit()).toBe(false);
    expect(w.errors.name).toBe('name-required');
    w.setField('name', 'bad/name');
    expect(await w.submit()).toBe(false);
    expect(w.errors.name).toBe('name-invalid');
    w.setField('name', ' leading');
    w.setField('name', '-dash-first');
    expect(await w.submit()).toBe(false);
    expect(api.createDataset).not.toHaveBeenCalled();
  });

  it('accepts names in any script', async () => {
    const { w, api } = await atStep3();
    api.datasets.mockResolvedValue(page([]));
    w.setField('name', 'ImageNet-2024 扩增 v1');
    await w.checkName();
    expect(w.nameState).toBe('free');
    expect(w.validate()).toBe(true);
  });

  it('finds a clashing name before sending, case-insensitively', async () => {
    const { w, api } = await atStep3();
    api.datasets.mockResolvedValue(page([dataset({ name: 'ImageNet' })]));
    w.setField('name', 'imagenet');
    await w.checkName();
    expect(w.nameState).toBe('taken');
    expect(w.errors.name).toBe('name-taken');
    expect(await w.submit()).toBe(false);
    expect(api.createDataset).not.toHaveBeenCalled();
    expect(api.datasets).toHaveBeenCalledWith(
      expect.objectContaining({ q: 'imagenet', scope: 'mine' })
    );
    // fixing it clears the message
    api.datasets.mockResolvedValue(page([dataset({ name: 'ImageNet' })]));
    w.setField('name', 'imagenet-augmented');
    await w.checkName();
    expect(w.errors.name).toBeUndefined();
  });

  it('requires a team for team visibility and valid tags', async () => {
    const { w } = await atStep3();
    w.setField('visibility', 'team');
    w.setField('tags', 'ok, not/ok');
    expect(w.validate()).toBe(false);
    expect(w.errors.team).toBe('team-required');
    expect(w.errors.tags).toBe('tags-invalid');
    w.setField('team', 'vision');
    w.setField('tags', '扩增，清洗 raw');
    expect(w.errors.team).toBeUndefined();
    expect(w.errors.tags).toBeUndefined();
    expect(parseTags('扩增，清洗 raw, raw')).toEqual(['扩增', '清洗', 'raw']);
  });

  it('creates the dataset with version 1 from the chosen folder', async () => {
    const { w, api } = await atStep3();
    api.datasets.mockResolvedValue(page([]));
    api.createDataset.mockResolvedValue({
      dataset: dataset({ id: 'ds-9', name: 'augmented' }),
      version: version({ dataset_id: 'ds-9', status: 'pending' })
    });
    w.setField('description', '  3x augmentation ');
    w.setField('tags', 'augmented');
    w.setField('mode', 'reference');
    expect(await w.submit()).toBe(true);
    expect(w.phase).toBe('done');
    expect(w.result?.dataset_id).toBe('ds-9');
    expect(api.createDataset).toHaveBeenCalledWith({
      name: 'augmented',
      visibility: 'private',
      tags: ['augmented'],
      data_type: 'image',
      description: '3x augmentation',
      zone: 'zone-a',
      version: { volume_id: 'vol-1', path: 'augmented', mode: 'reference' }
    });
  });

  it('registers a new version of an existing dataset', async () => {
    const { w, api } = await atStep3();
    api.datasets.mockResolvedValue(page([dataset({ id: 'ds-7', name: 'mine' })]));
    api.registerVersion.mockResolvedValue(version({ dataset_id: 'ds-7', number: 4 }));
    w.setField('target', 'version');
    await flush();
    expect(w.myDatasets.map(d => d.id)).toEqual(['ds-7']);
    expect(await w.submit()).toBe(false);
    expect(w.errors.dataset).toBe('dataset-required');
    w.setField('dataset', 'ds-7');
    w.setField('message', 'cleaned');
    expect(await w.submit()).toBe(true);
    expect(api.registerVersion).toHaveBeenCalledWith('ds-7', {
      volume_id: 'vol-1',
      path: 'augmented',
      mode: 'snapshot',
      message: 'cleaned'
    });
    expect(api.createDataset).not.toHaveBeenCalled();
  });

  it('shows the server refusing a taken name as a name error, other refusals at the bottom', async () => {
    const { w, api } = await atStep3();
    api.datasets.mockResolvedValue(page([]));
    api.createDataset.mockRejectedValueOnce(
      new FermiApiError('you already have a dataset named augmented', 409, 'exists')
    );
    expect(await w.submit()).toBe(false);
    expect(w.phase).toBe('editing');
    expect(w.errors.name).toBe('name-taken');

    w.setField('name', 'other');
    await w.checkName();
    api.createDataset.mockRejectedValueOnce(
      new FermiApiError('the registry cannot be reached', 502, 'registry-unavailable')
    );
    expect(await w.submit()).toBe(false);
    expect(w.errors.submit).toBe('the registry cannot be reached');
  });

  it('opens at step 3 for a folder chosen in the file browser', async () => {
    const api = fakeApi();
    api.summary.mockResolvedValue(summary('text'));
    const w = new WizardModel({ api, debounce: 0 });
    await w.startAt(volume(), 'out/cleaned');
    await flush();
    expect(w.step).toBe(3);
    expect(w.path).toBe('out/cleaned');
    expect(w.fields.name).toBe('cleaned');
    expect(w.fields.dataType).toBe('text');
    expect(api.tree).toHaveBeenCalledWith('vol-1', 'out', expect.anything());
    expect(parentOf('a/b/c')).toBe('a/b');
  });
});
