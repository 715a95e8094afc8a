/** How grep and invertedindex print a file: relative to the current directory when under it, else absolute. */

import path from 'node:path';

export function displayPath(file: string): string {
  const abs = path.resolve(file);
  const rel = path.relative(process.cwd(), abs);
  return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : abs;
}
