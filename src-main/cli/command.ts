import { Catalogue, type OpenOptions } from '../engine/catalogue/catalogue';
import { UserError } from '../engine/errors';

export interface OptionSpec {
  type: 'string' | 'boolean';
  /** May be given more than once; the values arrive as an array. */
  multiple?: boolean;
  description: string;
  /** Placeholder shown in help for a string option, e.g. FILE. */
  value?: string;
}

export type OptionValues = Record<string, string | boolean | string[] | undefined>;

/** How a command talks to the person: results on stdout, progress and problems on stderr. */
export interface CliIO {
  out(text: string): void;
  err(text: string): void;
  /** A line that rewrites itself; shown only when stderr is a terminal. */
  progress(text: string): void;
}

/** One `artefact-lens <name>` command: add a file exporting one of these, and an entry in commands.ts. */
export interface Command {
  name: string;
  /** One line for the command list. */
  summary: string;
  /** The arguments part of the usage line, e.g. '--db FILE [--json]'. */
  usage: string;
  options: Record<string, OptionSpec>;
  /** The command takes arguments after its options (e.g. photos); absent: it takes none. */
  positionals?: { min: number };
  /** Throws UserError for anything the person can fix; the return value is the exit code (default 0). */
  run(values: OptionValues, io: CliIO, signal: AbortSignal, positionals: string[]): Promise<number | void>;
}

/** A string option the command cannot do without. */
export function requiredString(values: OptionValues, name: string): string {
  const value = values[name];
  if (typeof value !== 'string' || value === '') {
    throw new UserError('INVALID_ARGUMENT', `--${name} is required.`, 'See --help.');
  }
  return value;
}

export function optionalString(values: OptionValues, name: string): string | undefined {
  const value = values[name];
  return typeof value === 'string' ? value : undefined;
}

/** Opens the catalogue named by --db for the length of `work`, closing it however `work` ends. */
export async function withCatalogue<T>(values: OptionValues, options: OpenOptions, work: (catalogue: Catalogue) => Promise<T> | T): Promise<T> {
  const catalogue = Catalogue.open(requiredString(values, 'db'), options);
  try {
    return await work(catalogue);
  } finally {
    catalogue.close();
  }
}
