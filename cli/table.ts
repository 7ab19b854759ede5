/**
 * Plain-text tables as kubectl prints them: upper-case headers, columns separated by three spaces,
 * no trailing blanks. Widths count code points so names with accents still line up.
 */

export type Cell = string | number | boolean | undefined | null;

const width = (s: string) => [...s].length;

export function renderTable(headers: string[], rows: Cell[][]): string {
  const cells = rows.map((row) => headers.map((_, i) => cellText(row[i])));
  const widths = headers.map((h, i) => Math.max(width(h), ...cells.map((r) => width(r[i]!))));
  const line = (values: string[]) =>
    values
      .map((v, i) => (i === values.length - 1 ? v : v + ' '.repeat(widths[i]! - width(v))))
      .join('   ')
      .trimEnd();
  return `${[line(headers.map((h) => h.toUpperCase())), ...cells.map(line)].join('\n')}\n`;
}

export function cellText(value: Cell): string {
  if (value === undefined || value === null || value === '') return '<none>';
  return String(value).replace(/[\r\n\t]+/g, ' ');
}

/** "Key:  value" lines for `describe`, with the values aligned. */
export function renderFields(fields: [string, Cell][], indent = ''): string {
  const w = Math.max(...fields.map(([k]) => width(k))) + 3;
  return (
    fields.map(([k, v]) => `${indent}${`${k}:`.padEnd(w)}${cellText(v)}`).join('\n') +
    (fields.length ? '\n' : '')
  );
}
