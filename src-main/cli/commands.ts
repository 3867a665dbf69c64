import type { Command } from './command';
import { importCommand } from './commands/import';
import { statsCommand } from './commands/stats';

/** Every `artefact-lens` command, in the order `--help` lists them. */
export const COMMANDS: readonly Command[] = [importCommand, statsCommand];
