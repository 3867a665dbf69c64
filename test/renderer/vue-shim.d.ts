// The root type-check (tsc) does not read .vue files; vue-tsc checks them with the renderer's own config.
declare module '*.vue' {
  import type { DefineComponent } from 'vue';
  const component: DefineComponent<Record<string, unknown>, Record<string, unknown>, unknown>;
  export default component;
}
