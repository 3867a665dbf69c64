import type { Envelope, EventMessage, PhotoRequest } from '../contract';
import type { WorkspaceOptions } from '../engine/workspace/workspace';

/** Between the main process and the utility process that runs the Workspace. */
export type HostRequest =
  | { id: number; kind: 'call'; name: string; args: unknown }
  | { id: number; kind: 'photo'; request: PhotoRequest };

export type HostMessage =
  | { kind: 'reply'; id: number; answer: Envelope<unknown> | Uint8Array | null }
  | { kind: 'event'; event: EventMessage };

export type HostOptions = WorkspaceOptions;
