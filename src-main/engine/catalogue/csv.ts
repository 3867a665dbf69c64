import { isUtf8 } from 'node:buffer';
import { UserError } from '../errors';

export type CsvEncoding = 'utf-8' | 'windows-1252';

export interface CsvRecord {
  /** 1-based line of the file on which the record starts. */
  line: number;
  fields: string[];
}

function invalid(source: string, what: string, hint: string): UserError {
  return new UserError('MANIFEST_INVALID', `${source}: ${what}.`, hint);
}

/** Decodes a CSV file's bytes; a file that is not the encoding it claims is refused at its first bad line. */
export function decodeCsv(bytes: Uint8Array, encoding: CsvEncoding, source: string): string {
  if (encoding === 'windows-1252') return decodeWindows1252(bytes);
  if (!isUtf8(bytes)) {
    throw invalid(source, `line ${firstNonUtf8Line(bytes)} is not valid UTF-8 text`,
      'Re-save the file as "CSV UTF-8" (in Excel: File > Save As > CSV UTF-8), or import it with the windows-1252 encoding.');
  }
  return new TextDecoder('utf-8').decode(bytes); // Also drops a leading byte-order mark.
}

/**
 * Windows-1252 is Latin-1 except for bytes 0x80-0x9F (curly quotes, euro sign, ...). Written out
 * because Node 20's TextDecoder treats 'windows-1252' as plain Latin-1.
 */
const WINDOWS_1252_HIGH = '\u20ac\u0081\u201a\u0192\u201e\u2026\u2020\u2021\u02c6\u2030\u0160\u2039\u0152\u008d\u017d\u008f'
  + '\u0090\u2018\u2019\u201c\u201d\u2022\u2013\u2014\u02dc\u2122\u0161\u203a\u0153\u009d\u017e\u0178';

function decodeWindows1252(bytes: Uint8Array): string {
  const latin1 = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
  return latin1.replace(/[\x80-\x9f]/g, (c) => WINDOWS_1252_HIGH[c.charCodeAt(0) - 0x80]);
}

/** A newline byte never occurs inside a multi-byte UTF-8 character, so each line can be checked alone. */
function firstNonUtf8Line(bytes: Uint8Array): number {
  let start = 0;
  for (let line = 1; ; line++) {
    const end = bytes.indexOf(0x0a, start);
    if (!isUtf8(bytes.subarray(start, end < 0 ? bytes.length : end))) return line;
    if (end < 0) return line;
    start = end + 1;
  }
}

/**
 * Parses RFC 4180 CSV: quoted fields may hold commas, doubled quotes and line breaks; records end
 * with CRLF, LF or CR. Blank lines are skipped. A quote inside an unquoted field is kept as text.
 */
export function parseCsv(text: string, source: string): CsvRecord[] {
  const records: CsvRecord[] = [];
  let fields: string[] = [];
  let field = '';
  let line = 1;
  let recordLine = 1;
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  const endRecord = () => {
    fields.push(field);
    if (fields.length > 1 || fields[0] !== '') records.push({ line: recordLine, fields });
    fields = [];
    field = '';
  };
  while (i < text.length) {
    const c = text[i];
    if (c === '"' && field === '') {
      const quoteLine = line;
      let j = i + 1;
      for (;;) {
        const close = text.indexOf('"', j);
        if (close < 0) throw invalid(source, `the quoted field starting on line ${quoteLine} is never closed`, 'Add the missing closing quote (").');
        field += text.slice(j, close);
        line += countLineBreaks(text, j, close);
        if (text[close + 1] !== '"') { i = close + 1; break; }
        field += '"';
        j = close + 2;
      }
      if (i < text.length && !',\r\n'.includes(text[i])) {
        throw invalid(source, `line ${line} has text after a closing quote`, 'Put the whole field in quotes and double any quote inside it ("").');
      }
      continue;
    }
    if (c === ',') {
      fields.push(field);
      field = '';
    } else if (c === '\r' || c === '\n') {
      endRecord();
      if (c === '\r' && text[i + 1] === '\n') i++;
      line++;
      recordLine = line;
    } else {
      field += c;
    }
    i++;
  }
  if (field !== '' || fields.length > 0) endRecord();
  return records;
}

function countLineBreaks(text: string, from: number, to: number): number {
  let n = 0;
  for (let k = from; k < to; k++) {
    if (text[k] === '\n' || (text[k] === '\r' && text[k + 1] !== '\n')) n++;
  }
  return n;
}
