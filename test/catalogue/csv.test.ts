import { describe, expect, it } from 'vitest';
import { decodeCsv, parseCsv } from '../../src-main/engine/catalogue/csv';

const fields = (text: string) => parseCsv(text, 'm.csv').map((r) => r.fields);

describe('parseCsv', () => {
  it('reads plain records ending in LF, CRLF or CR, with or without a final line break', () => {
    expect(fields('a,b\n1,2')).toEqual([['a', 'b'], ['1', '2']]);
    expect(fields('a,b\r\n1,2\r\n')).toEqual([['a', 'b'], ['1', '2']]);
    expect(fields('a,b\r1,2\r')).toEqual([['a', 'b'], ['1', '2']]);
  });

  it('keeps commas, doubled quotes and line breaks inside quoted fields', () => {
    expect(fields('"a,b","say ""hi""","two\r\nlines"\nx,"",z')).toEqual([
      ['a,b', 'say "hi"', 'two\r\nlines'], ['x', '', 'z'],
    ]);
  });

  it('keeps empty fields, including a trailing one', () => {
    expect(fields('a,,c,\n')).toEqual([['a', '', 'c', '']]);
  });

  it('drops a UTF-8 byte-order mark and skips blank lines', () => {
    expect(fields('\uFEFFimage_path\n\nx.jpg\n\n')).toEqual([['image_path'], ['x.jpg']]);
  });

  it('numbers each record by the line it starts on, counting line breaks inside quotes', () => {
    const records = parseCsv('h1,h2\n"multi\nline",1\r\n\r\nlast,2\n', 'm.csv');
    expect(records.map((r) => r.line)).toEqual([1, 2, 5]);
  });

  it('refuses an unclosed quote, naming the line it opened on', () => {
    expect(() => parseCsv('a,b\n1,"open\n2,3\n', 'm.csv')).toThrow(/m\.csv: the quoted field starting on line 2 is never closed/);
  });

  it('refuses text after a closing quote', () => {
    expect(() => parseCsv('a\n"x"y\n', 'm.csv')).toThrow(/line 2 has text after a closing quote/);
  });
});

describe('decodeCsv', () => {
  it('names the first line holding bytes that are not UTF-8 and says how to re-save', () => {
    const bytes = Buffer.concat([Buffer.from('image_path,instance_id\nok.jpg,Caf\u00e9\n'), Buffer.from([0x62, 0xe9, 0x2c, 0x31, 0x0a])]);
    expect(() => decodeCsv(bytes, 'utf-8', 'm.csv')).toThrow(expect.objectContaining({
      code: 'MANIFEST_INVALID', message: expect.stringMatching(/line 3 is not valid UTF-8.*CSV UTF-8/),
    }));
  });

  it('reads windows-1252 text when asked to', () => {
    expect(decodeCsv(Buffer.from([0x43, 0x61, 0x66, 0xe9, 0x20, 0x80]), 'windows-1252', 'm.csv')).toBe('Caf\u00e9 \u20ac');
  });

  it('drops a byte-order mark from UTF-8 input', () => {
    expect(decodeCsv(Buffer.from('\uFEFFa,b'), 'utf-8', 'm.csv')).toBe('a,b');
  });
});
