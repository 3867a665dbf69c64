import type { BrowserWindowConstructorOptions, Session, WebContents } from 'electron';

/** The window's own pages, served from the built renderer by the `lens` protocol. */
export const APP_ORIGIN = 'lens://app';
export const APP_SCHEME = 'lens';
export const PHOTO_SCHEME = 'lens-photo';

/**
 * Every window the app opens: no Node in the page, an isolated and sandboxed preload, no
 * webviews, no insecure content (Electron's security checklist).
 */
export function windowOptions(preload: string): BrowserWindowConstructorOptions {
  return {
    width: 1360, height: 880, minWidth: 1024, minHeight: 640,
    show: false, title: 'Artefact Lens', backgroundColor: '#111419',
    webPreferences: {
      preload,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      experimentalFeatures: false,
      webviewTag: false,
      navigateOnDragDrop: false,
      safeDialogs: true,
      spellcheck: false,
    },
  };
}

/** Only the app's pages, its photos and the developer tools may load: nothing from any network. */
export function isAllowedAddress(url: string): boolean {
  return url.startsWith(`${APP_ORIGIN}/`) || url.startsWith(`${PHOTO_SCHEME}://`) || url.startsWith('devtools://');
}

export function filterRequest(details: { url: string }, callback: (response: { cancel: boolean }) => void): void {
  callback({ cancel: !isAllowedAddress(details.url) });
}

/** Camera, microphone, notifications, geolocation, clipboard reading…: the app needs none. */
export function denyPermissionRequest(_contents: unknown, _permission: string, callback: (granted: boolean) => void): void {
  callback(false);
}

export const denyPermissionCheck = (): boolean => false;

export function lockDownSession(session: Session): void {
  session.setPermissionRequestHandler(denyPermissionRequest);
  session.setPermissionCheckHandler(denyPermissionCheck);
  session.setDevicePermissionHandler(denyPermissionCheck);
  session.webRequest.onBeforeRequest(filterRequest);
}

/** The page never navigates (it is one app) and never opens windows or webviews. */
export function guardContents(contents: WebContents): void {
  contents.setWindowOpenHandler(() => ({ action: 'deny' }));
  contents.on('will-navigate', (event) => event.preventDefault());
  contents.on('will-redirect', (event) => event.preventDefault());
  contents.on('will-attach-webview', (event) => event.preventDefault());
}
