/**
 * The engine's process: a utility process that runs the Workspace, so decoding, SQLite and
 * inference never hold up the window. It answers the main process's calls through the same
 * checks (dispatch) the test bridge uses.
 */
import type { ParentPort } from 'electron';
import { dispatch } from '../engine/workspace/dispatch';
import { Workspace } from '../engine/workspace/workspace';
import type { HostMessage, HostOptions, HostRequest } from './host-protocol';

const port = (process as unknown as { parentPort: ParentPort }).parentPort;
const post = (message: HostMessage) => port.postMessage(message);
const workspace = new Workspace(JSON.parse(process.argv[2]) as HostOptions, (event) => post({ kind: 'event', event }));

port.on('message', ({ data }: { data: HostRequest }) => {
  const answer = data.kind === 'call' ? dispatch(workspace.handlers, data.name, data.args) : workspace.photo(data.request);
  void answer.then((a) => post({ kind: 'reply', id: data.id, answer: a }));
});
