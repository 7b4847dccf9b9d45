/** React components rendered in jsdom, driven as a user would (shared by the *.spec.tsx). */
import React, { act } from 'react';
import { createRoot, Root } from 'react-dom/client';

import { flush } from './fakeApi';

(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;

/** A fresh host element and React root per test, unmounted after it. */
export function dom(): {
  host: () => HTMLDivElement;
  render: (element: React.ReactElement) => Promise<void>;
} {
  let host: HTMLDivElement;
  let root: Root;
  beforeEach(() => {
    host = document.createElement('div');
    document.body.appendChild(host);
    root = createRoot(host);
  });
  afterEach(() => {
    act(() => root.unmount());
    host.remove();
  });
  return {
    host: () => host,
    render: async element => {
      await act(async () => {
        root.render(element);
        await flush();
      });
    }
  };
}

export function field<T extends HTMLElement>(within: ParentNode, name: string): T {
  const el = within.querySelector<T>(`[name="${name}"]`);
  if (!el) {
    throw new Error(`no field ${name}`);
  }
  return el;
}

/** As a user types: React listens for input events, with the native value setter. */
export async function fill(
  within: ParentNode,
  name: string,
  value: string
): Promise<void> {
  const el = field<HTMLInputElement | HTMLSelectElement>(within, name);
  const proto =
    el instanceof HTMLSelectElement
      ? HTMLSelectElement.prototype
      : HTMLInputElement.prototype;
  await act(async () => {
    Object.getOwnPropertyDescriptor(proto, 'value')!.set!.call(el, value);
    el.dispatchEvent(
      new Event(el instanceof HTMLSelectElement ? 'change' : 'input', { bubbles: true })
    );
    await flush();
  });
}

export async function click(el: Element): Promise<void> {
  await act(async () => {
    (el as HTMLElement).click();
    await flush();
  });
}

/** Runs `fn` (a model change made outside React) and lets React catch up. */
export async function settle(fn: () => unknown): Promise<void> {
  await act(async () => {
    await fn();
    await flush();
  });
}

export function button(within: ParentNode, text: string): HTMLButtonElement {
  const b = [...within.querySelectorAll('button')].find(x => x.textContent === text);
  if (!b) {
    throw new Error(`no button ${text}`);
  }
  return b;
}
