import type { Command } from './command';
import { domainCommand } from './commands/domain';
import { embedCommand } from './commands/embed';
import { evaluateCommand } from './commands/evaluate';
import { identifyCommand } from './commands/identify';
import { importCommand } from './commands/import';
import { statsCommand } from './commands/stats';
import { trainCommand } from './commands/train';

/** Every `artefact-lens` command, in the order `--help` lists them. */
export const COMMANDS: readonly Command[] = [importCommand, embedCommand, identifyCommand, domainCommand, trainCommand, statsCommand, evaluateCommand];
