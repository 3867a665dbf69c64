/**
 * The desktop app's main process: one window, the menus, the two protocols, and the IPC that
 * forwards the contract's calls to the engine's utility process. Thin on purpose: all work is
 * in the Workspace.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { app, BrowserWindow, dialog, ipcMain, Menu, protocol, session } from 'electron';
import type { CallArgs, DialogPurpose, EventMessage, MenuCommand } from '../contract';
import { UserError } from '../engine/errors';
import { CALL_CHANNEL, EVENT_CHANNEL } from './channels';
import { NEW_CATALOGUE_DIALOG, openDialogOptions, saveDialogOptions } from './dialogs';
import { WorkspaceHost } from './host';
import { handleCall } from './ipc';
import { menuTemplate } from './menu';
import { servePhoto, serveApp } from './protocols';
import { APP_ORIGIN, APP_SCHEME, guardContents, lockDownSession, PHOTO_SCHEME, windowOptions } from './security';

const here = fileURLToPath(new URL('.', import.meta.url));
const RENDERER_DIR = join(here, '..', '..', 'dist', 'renderer');
const MODELS_DIR = app.isPackaged ? join(process.resourcesPath, 'models') : join(app.getAppPath(), 'models');

protocol.registerSchemesAsPrivileged([
  { scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true } },
  { scheme: PHOTO_SCHEME, privileges: { standard: true, secure: true } },
]);
app.enableSandbox();
if (!app.requestSingleInstanceLock()) app.quit();

let window: BrowserWindow | null = null;

function broadcast(message: EventMessage): void {
  window?.webContents.send(EVENT_CHANNEL, message);
  if (message.name === 'catalogue.changed') void refreshMenu();
}

const host = new WorkspaceHost(join(here, 'workspace-host.js'), { settingsDir: app.getPath('userData'), modelsDir: MODELS_DIR }, broadcast);

async function refreshMenu(): Promise<void> {
  const recent = await host.call('catalogue.recent', {});
  const paths = recent.ok ? (recent.value as string[]) : [];
  Menu.setApplicationMenu(Menu.buildFromTemplate(menuTemplate(paths, {
    command: (command: MenuCommand) => broadcast({ name: 'menu.command', payload: { command } }),
    openRecent: (path) => void host.call('catalogue.open', { path }).then((answer) => {
      if (!answer.ok) dialog.showErrorBox(answer.error.what, answer.error.hint);
    }),
  })));
}

async function chooseFiles(purpose: DialogPurpose, parent: BrowserWindow | null): Promise<string[] | null> {
  if (purpose === 'new-catalogue') {
    const saved = parent ? await dialog.showSaveDialog(parent, NEW_CATALOGUE_DIALOG) : await dialog.showSaveDialog(NEW_CATALOGUE_DIALOG);
    return saved.canceled || !saved.filePath ? null : [saved.filePath];
  }
  const options = openDialogOptions(purpose);
  const chosen = parent ? await dialog.showOpenDialog(parent, options) : await dialog.showOpenDialog(options);
  return chosen.canceled ? null : chosen.filePaths;
}

/** Saves what the window made (an overlay, a CSV) where the person chooses; the path, or null. */
async function saveFile({ purpose, fileName, bytes }: CallArgs<'dialog.save'>, parent: BrowserWindow | null): Promise<string | null> {
  const options = saveDialogOptions(purpose, fileName);
  const saved = parent ? await dialog.showSaveDialog(parent, options) : await dialog.showSaveDialog(options);
  if (saved.canceled || !saved.filePath) return null;
  await writeFile(saved.filePath, bytes).catch((cause: unknown) => {
    throw new UserError('INVALID_ARGUMENT', `${saved.filePath} could not be written.`, 'Choose a folder you can write to, and check the drive has room.', { cause });
  });
  return saved.filePath;
}

/** The calls the main process answers itself: the native dialogs. */
function localCall(name: string, args: unknown, parent: BrowserWindow | null): Promise<unknown> | undefined {
  if (name === 'dialog.open') return chooseFiles((args as CallArgs<'dialog.open'>).purpose, parent);
  if (name === 'dialog.save') return saveFile(args as CallArgs<'dialog.save'>, parent);
  return undefined;
}

function createWindow(): void {
  window = new BrowserWindow(windowOptions(join(here, 'preload.cjs')));
  window.once('ready-to-show', () => window?.show());
  window.on('closed', () => { window = null; });
  void window.loadURL(`${APP_ORIGIN}/index.html`);
}

app.on('web-contents-created', (_event, contents) => guardContents(contents));
app.on('second-instance', () => window?.focus());
app.on('window-all-closed', () => app.quit());
app.on('will-quit', () => host.stop());

void app.whenReady().then(async () => {
  lockDownSession(session.defaultSession);
  protocol.handle(APP_SCHEME, (request) => serveApp(request, RENDERER_DIR));
  protocol.handle(PHOTO_SCHEME, (request) => servePhoto(request, (r) => host.photo(r)));
  ipcMain.handle(CALL_CHANNEL, (event, name: unknown, args: unknown) => handleCall(event, window, {
    local: localCall,
    engine: (call, a) => host.call(call, a),
  }, name, args));
  await refreshMenu();
  createWindow();
});
