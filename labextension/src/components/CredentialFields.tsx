/**
 * The fields of a new credential, by type: a name, then an S3 key pair, or a token (with an
 * optional user name for Git). One component for the Credentials tab and the transfer form's
 * inline "Add a new credential…"; each caller keeps its own state, input names and errors.
 */
import { TranslationBundle } from '@jupyterlab/translation';
import React from 'react';

import { TransferTool } from '../tokens';
import { TextField } from './TransferFields';

export type CredentialField =
  'name' | 'username' | 'token' | 'accessKeyId' | 'secretAccessKey';

export interface ICredentialFieldsProps {
  type: TransferTool;
  values: Record<CredentialField, string>;
  errors: Partial<Record<CredentialField, string>>;
  /** the input's `name` (and its error's `data-field`) for a field */
  inputName: (field: CredentialField) => string;
  onChange: (field: CredentialField, value: string) => void;
  trans: TranslationBundle;
}

export function CredentialFields(props: ICredentialFieldsProps): JSX.Element {
  const { type, values, errors, inputName, onChange, trans } = props;
  const input = (
    key: CredentialField,
    label: string,
    extra: React.InputHTMLAttributes<HTMLInputElement> = {}
  ) => (
    <TextField
      label={label}
      name={inputName(key)}
      value={values[key]}
      error={errors[key]}
      onChange={value => onChange(key, value)}
      trans={trans}
      extra={extra}
    />
  );
  const secret = { required: true, type: 'password', autoComplete: 'off' };
  return (
    <>
      {input('name', trans.__('Name'), { required: true, placeholder: 'my-token' })}
      {type === 's3' ? (
        <>
          {input('accessKeyId', trans.__('Access key ID'), { required: true })}
          {input('secretAccessKey', trans.__('Secret access key'), secret)}
        </>
      ) : (
        <>
          {type === 'git' && input('username', trans.__('User name (optional)'))}
          {input('token', trans.__('Token'), secret)}
        </>
      )}
    </>
  );
}
