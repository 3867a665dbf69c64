import type { Command } from './command';
import { domainCommand } from './commands/domain';
import { embedCommand } from './commands/embed';
import { evaluateCommand } from './commands/evaluate';
import { identifyCommand } from './commands/identify';
import { importCommand } from './commands/import';
import { statsCommand } from './commands/stats';

/** Every `artefact-lens` command, in the order `--help` lists them. */
export const COMMANDS: readonly Command[] = [importCommand, embedCommand, identifyCommand, domainCommand, statsCommand, evaluateCommand];
