import { VDomModel } from '@jupyterlab/apputils';
import { useEffect, useReducer } from 'react';

/** Re-renders the calling component whenever `model` changes. */
export function useModel(model: VDomModel | null | undefined): void {
  const [, bump] = useReducer((x: number) => x + 1, 0);
  useEffect(() => {
    if (!model) {
      return;
    }
    const onChange = () => bump();
    model.stateChanged.connect(onChange);
    return () => {
      model.stateChanged.disconnect(onChange);
    };
  }, [model]);
}
