/**
 * "Create dataset from volume", the workflow document's three steps, as a state machine:
 * 1 choose a volume, 2 choose a folder of it, 3 describe the dataset. Nothing is sent until
 * every field is valid and the name is known to be free.
 */
import { VDomModel } from '@jupyterlab/apputils';
import { Debouncer } from '@lumino/polling';

import { errorMessage } from './model';
import {
  DataType,
  FermiApiError,
  IDataset,
  IDatasetCreate,
  IFermiApi,
  IFolderSummary,
  IVersion,
  IVersionCreate,
  IVolume,
  Mode,
  Visibility
} from './tokens';
import { DirectoryModel } from './tree';

export type WizardStep = 1 | 2 | 3;
export type WizardPhase = 'editing' | 'submitting' | 'done';
export type NameState = 'unknown' | 'checking' | 'free' | 'taken' | 'error';

export interface IWizardFields {
  /** a new dataset, or a new version of one of yours */
  target: 'new' | 'version';
  name: string;
  /** the dataset (id) a new version goes to */
  dataset: string;
  dataType: DataType | '';
  description: string;
  zone: string;
  visibility: Visibility;
  team: string;
  tags: string;
  mode: Mode;
  message: string;
}

/** What `submit` sends: a new dataset with version 1, or a new version of one. */
export type WizardRequest =
  | { kind: 'dataset'; body: IDatasetCreate }
  | { kind: 'version'; dataset: string; body: IVersionCreate };

export type FieldName = keyof IWizardFields;
export type ErrorKey = FieldName | 'volume' | 'path' | 'submit';

/** What a message means; the view translates it. */
export type WizardError =
  | 'name-required'
  | 'name-invalid'
  | 'name-taken'
  | 'dataset-required'
  | 'team-required'
  | 'tags-invalid'
  | 'volume-required'
  | 'path-required'
  | 'description-too-long';

/** The registry's rule for names: letters of any script, digits, space, '.', '-', '_'. */
const NAME_RE = /^[\p{L}\p{N}_][\p{L}\p{N}_. -]{0,126}[\p{L}\p{N}_.-]?$/u;
const TAG_RE = /^[\p{L}\p{N}_.:-]{1,64}$/u;

export function parseTags(text: string): string[] {
  const tags = text
    .split(/[,，\s]+/)
    .map(t => t.trim())
    .filter(Boolean);
  return [...new Set(tags)];
}

export function defaultFields(): IWizardFields {
  return {
    target: 'new',
    name: '',
    dataset: '',
    dataType: '',
    description: '',
    zone: '',
    visibility: 'private',
    team: '',
    tags: '',
    mode: 'snapshot',
    message: ''
  };
}

export class WizardModel extends VDomModel {
  constructor(options: WizardModel.IOptions) {
    super();
    this.api = options.api;
    this.pageSize = options.pageSize ?? 200;
    this._nameDebouncer = new Debouncer(
      () => this.checkName(),
      options.debounce ?? 300
    );
  }

  readonly api: IFermiApi;
  readonly pageSize: number;

  step: WizardStep = 1;
  phase: WizardPhase = 'editing';
  volumes: IVolume[] = [];
  volumesLoading = false;
  volumesError: string | null = null;
  volume: IVolume | null = null;
  directory: DirectoryModel | null = null;
  /** the chosen folder inside the volume ('' is its root), null until chosen */
  path: string | null = null;
  fields: IWizardFields = defaultFields();
  errors: Partial<Record<ErrorKey, WizardError | string>> = {};
  nameState: NameState = 'unknown';
  suggestedType: DataType | null = null;
  /** files, bytes and types of the chosen folder */
  summary: IFolderSummary | null = null;
  /** your datasets, for "new version of" */
  myDatasets: IDataset[] = [];
  result: IVersion | null = null;

  async loadVolumes(): Promise<void> {
    this.volumesLoading = true;
    this.stateChanged.emit();
    try {
      const page = await this.api.volumes();
      this.volumes = page.items;
      this.volumesError = null;
    } catch (e) {
      this.volumesError = errorMessage(e);
    }
    this.volumesLoading = false;
    this.stateChanged.emit();
  }

  async loadMyDatasets(): Promise<void> {
    try {
      this.myDatasets = (await this.api.datasets({ scope: 'mine', limit: 500 })).items;
    } catch {
      this.myDatasets = [];
    }
    this.stateChanged.emit();
  }

  /** Step 1: a volume; its folder tree opens at the root for step 2. */
  chooseVolume(volume: IVolume): void {
    if (this.volume?.id !== volume.id) {
      this.directory?.dispose();
      this.directory = new DirectoryModel({
        api: this.api,
        volumeId: volume.id,
        pageSize: this.pageSize
      });
      this.directory.stateChanged.connect(this._onDirectory, this);
      this.path = null;
      this.suggestedType = null;
      this.summary = null;
      if (!this.fields.zone && volume.zone) {
        this.fields = { ...this.fields, zone: volume.zone };
      }
    }
    this.volume = volume;
    delete this.errors.volume;
    this.stateChanged.emit();
  }

  /** Step 2: the folder to register (a click selects it). */
  choosePath(path: string | null): void {
    this.path = path;
    this.directory?.select(path);
    delete this.errors.path;
    if (path !== null) {
      void this._suggestType(path);
      if (!this.fields.name && this.fields.target === 'new') {
        const base = path.split('/').filter(Boolean).pop();
        if (base) {
          this.setField('name', base);
        }
      }
    }
    this.stateChanged.emit();
  }

  /** Opens the wizard at step 3 for a folder already chosen (the file browser's menu). */
  async startAt(volume: IVolume, path: string): Promise<void> {
    this.chooseVolume(volume);
    this.choosePath(path);
    this.step = 3;
    this.stateChanged.emit();
    await this.directory?.open(parentOf(path));
    this.directory?.select(path);
  }

  setField<K extends FieldName>(key: K, value: IWizardFields[K]): void {
    this.fields = { ...this.fields, [key]: value };
    if (key === 'dataType') {
      this._typeTouched = true;
    }
    if (key === 'name' || key === 'target') {
      this.nameState = 'unknown';
      if (this.fields.target === 'new' && this._nameError() === null) {
        this.nameState = 'checking';
        void this._nameDebouncer.invoke();
      }
    }
    if (key === 'target' && value === 'version' && this.myDatasets.length === 0) {
      void this.loadMyDatasets();
    }
    // re-check a field already complained about, so the message goes as soon as it is fixed
    if (key in this.errors || key === 'target') {
      this._validateField(key);
    }
    delete this.errors.submit;
    this.stateChanged.emit();
  }

  /** Asks the server whether you already have a dataset with this name. */
  async checkName(): Promise<void> {
    const name = this.fields.name.trim();
    if (this.fields.target !== 'new' || this._nameError() !== null) {
      return;
    }
    this.nameState = 'checking';
    this.stateChanged.emit();
    try {
      const page = await this.api.datasets({ q: name, scope: 'mine', limit: 50 });
      if (name !== this.fields.name.trim()) {
        return; // typed on meanwhile; the next check decides
      }
      const taken = page.items.some(d => d.name.toLowerCase() === name.toLowerCase());
      this.nameState = taken ? 'taken' : 'free';
      if (taken) {
        this.errors.name = 'name-taken';
      } else if (this.errors.name === 'name-taken') {
        delete this.errors.name;
      }
    } catch {
      this.nameState = 'error'; // the server decides at submit time
    }
    this.stateChanged.emit();
  }

  canAdvance(): boolean {
    if (this.step === 1) {
      return this.volume !== null;
    }
    if (this.step === 2) {
      return this.path !== null;
    }
    return this.phase === 'editing';
  }

  next(): void {
    if (this.step === 1) {
      if (!this.volume) {
        this.errors.volume = 'volume-required';
      } else {
        this.step = 2;
        if (this.directory && !this.directory.loaded) {
          void this.directory.open('');
        }
      }
    } else if (this.step === 2) {
      if (this.path === null) {
        this.errors.path = 'path-required';
      } else {
        this.step = 3;
      }
    }
    this.stateChanged.emit();
  }

  back(): void {
    if (this.step > 1 && this.phase === 'editing') {
      this.step = (this.step - 1) as WizardStep;
      this.stateChanged.emit();
    }
  }

  /** All of step 3's checks; true when there is nothing to complain about. */
  validate(): boolean {
    for (const key of [
      'name',
      'dataset',
      'team',
      'tags',
      'description'
    ] as FieldName[]) {
      this._validateField(key);
    }
    if (!this.volume) {
      this.errors.volume = 'volume-required';
    }
    if (this.path === null) {
      this.errors.path = 'path-required';
    }
    const { submit, ...rest } = this.errors;
    void submit;
    return Object.keys(rest).length === 0;
  }

  /** The request `submit` would send (null while invalid). */
  request(): WizardRequest | null {
    if (!this.volume || this.path === null) {
      return null;
    }
    const f = this.fields;
    const version: IVersionCreate = {
      volume_id: this.volume.id,
      path: this.path,
      mode: f.mode
    };
    if (f.message.trim()) {
      version.message = f.message.trim();
    }
    if (f.target === 'version') {
      return { kind: 'version', dataset: f.dataset, body: version };
    }
    const body: IDatasetCreate = {
      name: f.name.trim(),
      visibility: f.visibility,
      tags: parseTags(f.tags),
      version
    };
    const dataType = f.dataType || this.suggestedType;
    if (dataType) {
      body.data_type = dataType;
    }
    if (f.description.trim()) {
      body.description = f.description.trim();
    }
    if (f.zone.trim()) {
      body.zone = f.zone.trim();
    }
    if (f.visibility === 'team') {
      body.team = f.team.trim();
    }
    return { kind: 'dataset', body };
  }

  /** Sends the registration when valid; false (with messages) when not. */
  async submit(): Promise<boolean> {
    if (this.phase !== 'editing') {
      return false;
    }
    if (this.fields.target === 'new' && this.nameState === 'checking') {
      await this.checkName();
    }
    if (!this.validate()) {
      this.stateChanged.emit();
      return false;
    }
    const request = this.request();
    if (!request) {
      return false;
    }
    this.phase = 'submitting';
    this.stateChanged.emit();
    try {
      if (request.kind === 'version') {
        this.result = await this.api.registerVersion(request.dataset, request.body);
      } else {
        this.result = (await this.api.createDataset(request.body)).version;
      }
      this.phase = 'done';
    } catch (e) {
      this.phase = 'editing';
      if (
        e instanceof FermiApiError &&
        e.reason === 'exists' &&
        this.fields.target === 'new'
      ) {
        this.nameState = 'taken';
        this.errors.name = 'name-taken';
      } else if (e instanceof FermiApiError && e.reason === 'invalid-name') {
        this.errors.name = e.message;
      } else {
        this.errors.submit = errorMessage(e);
      }
    }
    this.stateChanged.emit();
    return this.phase === 'done';
  }

  override dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this._nameDebouncer.dispose();
    this.directory?.dispose();
    super.dispose();
  }

  private _nameError(): WizardError | null {
    const name = this.fields.name.trim();
    if (!name) {
      return 'name-required';
    }
    if (!NAME_RE.test(name)) {
      return 'name-invalid';
    }
    return null;
  }

  /** Checks one field (on blur), so its message shows before submitting. */
  validateField(key: FieldName): void {
    this._validateField(key);
    this.stateChanged.emit();
  }

  private _validateField(key: FieldName): void {
    const f = this.fields;
    let error: WizardError | null = null;
    switch (key) {
      case 'name':
        if (f.target === 'new') {
          error =
            this._nameError() ?? (this.nameState === 'taken' ? 'name-taken' : null);
        }
        break;
      case 'dataset':
        error = f.target === 'version' && !f.dataset ? 'dataset-required' : null;
        break;
      case 'team':
        error =
          f.target === 'new' && f.visibility === 'team' && !f.team.trim()
            ? 'team-required'
            : null;
        break;
      case 'tags':
        error = parseTags(f.tags).every(t => TAG_RE.test(t)) ? null : 'tags-invalid';
        break;
      case 'description':
        error = f.description.length > 2000 ? 'description-too-long' : null;
        break;
      case 'target':
        delete this.errors.name;
        delete this.errors.dataset;
        return;
      default:
        return;
    }
    if (error) {
      this.errors[key] = error;
    } else {
      delete this.errors[key];
    }
  }

  private async _suggestType(path: string): Promise<void> {
    if (!this.volume) {
      return;
    }
    try {
      const summary = await this.api.summary(this.volume.id, path);
      if (this.path !== path) {
        return;
      }
      this.summary = summary;
      this.suggestedType = summary.files > 0 ? summary.suggested_data_type : null;
      if (!this._typeTouched && this.suggestedType) {
        this.fields = { ...this.fields, dataType: this.suggestedType };
      }
      this.stateChanged.emit();
    } catch {
      this.suggestedType = null; // a suggestion only; the user picks the type
    }
  }

  private _onDirectory(): void {
    this.stateChanged.emit();
  }

  private _typeTouched = false;
  private _nameDebouncer: Debouncer;
}

export function parentOf(path: string): string {
  const parts = path.split('/').filter(Boolean);
  parts.pop();
  return parts.join('/');
}

export namespace WizardModel {
  export interface IOptions {
    api: IFermiApi;
    pageSize?: number;
    debounce?: number;
  }
}
