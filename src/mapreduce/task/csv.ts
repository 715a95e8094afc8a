/**
 * A small CSV line parser: RFC 4180 quoting within one line (a record never spans lines here,
 * because splits are line-aligned). Fields are separated by ','; a field that starts with '"' is
 * quoted, ends at the next lone '"', and '""' inside it stands for one '"'. A trailing '\r' is
 * dropped. Returns the fields, or throws CsvSyntaxError saying what was expected and where.
 */

export class CsvSyntaxError extends Error {}

const COMMA = 0x2c;
const QUOTE = 0x22;

export function parseCsvLine(line: string): string[] {
  const end = line.endsWith('\r') ? line.length - 1 : line.length;
  // Fast path: no quotes at all.
  if (line.indexOf('"') === -1) return (end === line.length ? line : line.slice(0, end)).split(',');
  const fields: string[] = [];
  let i = 0;
  for (;;) {
    if (i < end && line.charCodeAt(i) === QUOTE) {
      let value = '';
      let from = i + 1;
      for (;;) {
        const q = line.indexOf('"', from);
        if (q === -1 || q >= end) {
          throw new CsvSyntaxError(`unterminated quoted field starting at column ${i + 1}: expected a closing '"'`);
        }
        value += line.slice(from, q);
        if (line.charCodeAt(q + 1) === QUOTE && q + 1 < end) {
          value += '"';
          from = q + 2;
          continue;
        }
        i = q + 1;
        break;
      }
      fields.push(value);
      if (i === end) return fields;
      if (line.charCodeAt(i) !== COMMA) {
        throw new CsvSyntaxError(`expected ',' or end of line after the quoted field at column ${i + 1}, received ${JSON.stringify(line[i])}`);
      }
      i++;
    } else {
      const comma = line.indexOf(',', i);
      if (comma === -1 || comma >= end) {
        fields.push(line.slice(i, end));
        return fields;
      }
      fields.push(line.slice(i, comma));
      i = comma + 1;
    }
  }
}
