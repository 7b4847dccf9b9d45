import React from 'react';

/** An empty list that says what to do next. */
export function EmptyState(props: {
  title: string;
  children?: React.ReactNode;
  className?: string;
}): JSX.Element {
  return (
    <div className={`jp-fermi-empty ${props.className ?? ''}`}>
      <div className="jp-fermi-empty-title">{props.title}</div>
      {props.children && <div className="jp-fermi-empty-body">{props.children}</div>}
    </div>
  );
}

/** A failed load: the server's message and a way to try again. */
export function ErrorNote(props: {
  message: string;
  retryLabel?: string;
  onRetry?: () => void;
}): JSX.Element {
  return (
    <div className="jp-fermi-error" role="alert">
      <span>{props.message}</span>
      {props.onRetry && (
        <button className="jp-fermi-link" onClick={props.onRetry}>
          {props.retryLabel}
        </button>
      )}
    </div>
  );
}
