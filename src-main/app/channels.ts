/** The two IPC channels: calls (invoke/handle) and events (main to window). */
export const CALL_CHANNEL = 'lens:call';
export const EVENT_CHANNEL = 'lens:event';
