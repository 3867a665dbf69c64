import type { Envelope, EventMessage, LensTransport } from '../../src-main/contract';
import { decode, encode } from '../../src-main/bridge/codec';

/** The contract over the loopback test bridge: the page is served by the bridge, so every address is its own origin. */
export function bridgeTransport(): LensTransport {
  const listeners = new Set<(m: EventMessage) => void>();
  const events = new EventSource('/events');
  events.onmessage = (e: MessageEvent<string>) => {
    const message = JSON.parse(e.data) as EventMessage;
    for (const listener of listeners) listener(message);
  };
  return {
    async call(name, args) {
      const res = await fetch(`/call/${encodeURIComponent(name)}`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: encode(args) });
      return decode(await res.text()) as Envelope<unknown>;
    },
    on(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    photoUrl: (kind, id, size) => `/photo/${kind}/${id}?size=${size}`,
    hasDialogs: false,
  };
}
