/**
 * The only door between the page and the app: window.lens, exactly the contract's calls and
 * events. Runs sandboxed and isolated; the page never sees ipcRenderer.
 */
import { contextBridge, ipcRenderer, webUtils } from 'electron';
import { isCallName, type EventMessage, type LensTransport } from '../contract';
import { CALL_CHANNEL, EVENT_CHANNEL } from './channels';
import { PHOTO_SCHEME } from './security';

const lens: LensTransport = {
  call: (name, args) => (isCallName(name)
    ? ipcRenderer.invoke(CALL_CHANNEL, name, args)
    : Promise.resolve({ ok: false, error: { code: 'INVALID_ARGUMENT', what: `There is no call "${String(name)}".`, hint: 'This is a fault in Artefact Lens.' } })),
  on(listener) {
    const relay = (_event: unknown, message: EventMessage) => listener(message);
    ipcRenderer.on(EVENT_CHANNEL, relay);
    return () => { ipcRenderer.removeListener(EVENT_CHANNEL, relay); };
  },
  photoUrl: (kind, id, size) => `${PHOTO_SCHEME}://${kind}/${id}?size=${size}`,
  pathForFile: (file) => webUtils.getPathForFile(file as File) || null,
  hasDialogs: true,
};

contextBridge.exposeInMainWorld('lens', lens);
