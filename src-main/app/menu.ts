import type { MenuItemConstructorOptions } from 'electron';
import type { MenuCommand } from '../contract';

export interface MenuActions {
  /** Asks the window to do something (the renderer owns the views). */
  command(command: MenuCommand): void;
  openRecent(path: string): void;
}

/** The application menu: catalogue, import, identify, the views, and quit; with shortcuts. */
export function menuTemplate(recent: string[], actions: MenuActions, platform: NodeJS.Platform = process.platform): MenuItemConstructorOptions[] {
  const send = (command: MenuCommand) => () => actions.command(command);
  const file: MenuItemConstructorOptions = {
    label: '&File',
    submenu: [
      { label: 'New Catalogue…', accelerator: 'CmdOrCtrl+N', click: send('new-catalogue') },
      { label: 'Open Catalogue…', accelerator: 'CmdOrCtrl+O', click: send('open-catalogue') },
      {
        label: 'Open Recent',
        submenu: recent.length > 0
          ? recent.map((path) => ({ label: path, click: () => actions.openRecent(path) }))
          : [{ label: 'No recent catalogues', enabled: false }],
      },
      { type: 'separator' },
      { label: 'Import Photos…', accelerator: 'CmdOrCtrl+I', click: send('import') },
      { label: 'Identify a Photo', accelerator: 'CmdOrCtrl+D', click: send('identify') },
      { type: 'separator' },
      platform === 'darwin' ? { role: 'close' } : { role: 'quit', accelerator: 'CmdOrCtrl+Q' },
    ],
  };
  const view: MenuItemConstructorOptions = {
    label: '&View',
    submenu: [
      { label: 'Identify', accelerator: 'CmdOrCtrl+1', click: send('identify') },
      { label: 'Catalogue', accelerator: 'CmdOrCtrl+2', click: send('catalogue') },
      { label: 'Explore', accelerator: 'CmdOrCtrl+3', click: send('explore') },
      { label: 'Evaluate', accelerator: 'CmdOrCtrl+4', click: send('evaluate') },
      { label: 'Models', accelerator: 'CmdOrCtrl+5', click: send('models') },
      { type: 'separator' },
      { role: 'resetZoom' }, { role: 'zoomIn' }, { role: 'zoomOut' },
      { type: 'separator' },
      { role: 'togglefullscreen' },
    ],
  };
  const app: MenuItemConstructorOptions[] = platform === 'darwin' ? [{ role: 'appMenu' }] : [];
  return [...app, file, { role: 'editMenu' }, view, { role: 'windowMenu' }];
}
