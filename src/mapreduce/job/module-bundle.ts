/**
 * A user's `.ts` job module and the TypeScript files it imports, as one ES module file in the
 * user's cache folder (compile-cache.ts), that Node loads with no module hooks at all: `'gmr'`
 * and `'gmr/…'` are written as the file URLs of the running gmr, node builtins stay imports, and
 * `import.meta.url`/`filename`/`dirname` are the original file's. A hook is a loader thread that
 * every `import` of the process then waits on; this is the path of most job modules.
 *
 * A module for which this would change what it means is left to the hooks (import-module.ts):
 * one that imports a package (it must resolve from its own folder), uses another `import.meta`
 * member, or imports with a computed `import()`. The entry `<key>.bundle.mjs`, key = SHA-256 of
 * the compiler, the gmr file URLs it imports, the module's path and its bytes, ends with a line
 * naming the key, the SHA-256 of the rest and the SHA-256 of every file it holds; it is used only if it is a regular file of
 * this user, mode 0600, and every one of those hashes still matches (an edited `lib/x.ts` makes a
 * new bundle).
 */
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, constants, fstatSync, openSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { createRequire, isBuiltin } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

export interface BundleOptions {
  /** The compiler's identity (esbuild version, Node major), part of every key. */
  id: string;
  /** esbuild's entry file. */
  esbuild: string;
  /** The cache folder; undefined: no bundle (every process would build its own). */
  dir: string | undefined;
  /** `'gmr'`, `'gmr/protocol'`, … → file URLs of the running gmr. */
  specifiers: Record<string, string>;
  /**
   * The running gmr's job-authoring entry (dist/bundle/job-api.js) and the names it exports: a
   * bundle whose `'gmr'` imports are all among them imports them from there, the same modules
   * without the job server, the client and the driver behind the full entry.
   */
  jobApi?: { url: string; names: readonly string[] };
}

/** Thrown inside the build for a module the hooks must load instead. */
class NotBundled extends Error {}

const sha256 = (text: string | Buffer): string => createHash('sha256').update(text).digest('hex');
const HEADER = '//gmr-bundle';

/** The bundle file of `file` (made if missing or stale), or undefined when the hooks must load it. */
export async function bundledModule(file: string, options: BundleOptions): Promise<string | undefined> {
  if (options.dir === undefined) return undefined;
  const source = readFileSync(file);
  // The gmr URLs are baked into the bundle: a gmr elsewhere (another install, or dist/src/ beside
  // dist/bundle/) sharing the cache folder must not get this one's modules.
  const key = sha256(`${options.id}\0bundle\0${JSON.stringify([options.specifiers, options.jobApi])}\0${file}\0${source.toString('latin1')}`);
  const entry = path.join(options.dir, `${key}.bundle.mjs`);
  if (validEntry(entry, key)) return entry;
  const built = await build(file, entry, options);
  if (built === undefined) return undefined;
  // The check line goes last: as the first it would shift every line the source map names.
  const inputs = JSON.stringify(built.inputs);
  const body = built.code.endsWith('\n') ? built.code : `${built.code}\n`;
  write(entry, `${body}${HEADER} ${key} ${sha256(`${inputs}\n${body}`)} ${inputs}`);
  return validEntry(entry, key) ? entry : undefined;
}

function validEntry(entry: string, key: string): boolean {
  let fd: number;
  try {
    fd = openSync(entry, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch {
    return false;
  }
  try {
    const stats = fstatSync(fd);
    if (!stats.isFile() || stats.uid !== (process.getuid?.() ?? -1) || (stats.mode & 0o077) !== 0) return false;
    const text = readFileSync(fd, 'utf8');
    // The last line: `//gmr-bundle <key> <sha256 of inputs, '\n' and body> <inputs as JSON>`.
    const newline = text.lastIndexOf('\n');
    const check = text.slice(newline + 1);
    const [tag, named, digest] = check.split(' ', 3);
    const inputs = check.slice(HEADER.length + 1 + 64 + 1 + 64 + 1);
    if (newline < 0 || tag !== HEADER || named !== key || digest !== sha256(`${inputs}\n${text.slice(0, newline + 1)}`)) return false;
    const files = JSON.parse(inputs) as Array<[string, string]>;
    return files.every(([input, hash]) => {
      try {
        return sha256(readFileSync(input)) === hash;
      } catch {
        return false;
      }
    });
  } catch {
    return false;
  } finally {
    closeSync(fd);
  }
}

/** A new file of its own, then renamed over the entry: a reader sees the old entry or the whole new one. */
function write(entry: string, text: string): void {
  const temporary = `${entry}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    writeFileSync(temporary, text, { mode: 0o600, flag: 'wx' });
    renameSync(temporary, entry);
  } catch {
    try {
      unlinkSync(temporary);
    } catch {
      // never written
    }
  }
}

type Loader = 'ts' | 'js' | 'json';
const LOADERS: Record<string, Loader | undefined> = { '.ts': 'ts', '.mts': 'ts', '.js': 'js', '.mjs': 'js', '.json': 'json' };

interface EsbuildPlugin {
  name: string;
  setup(build: {
    onResolve(filter: { filter: RegExp }, callback: (args: { path: string; kind: string }) => { path: string; external: boolean } | undefined): void;
    onLoad(filter: { filter: RegExp }, callback: (args: { path: string }) => { contents: string; loader: Loader }): void;
  }): void;
}
interface Esbuild {
  build(options: Record<string, unknown>): Promise<{ outputFiles: Array<{ text: string }> }>;
}

async function build(file: string, entry: string, options: BundleOptions): Promise<{ code: string; inputs: Array<[string, string]> } | undefined> {
  const esbuild = createRequire(options.esbuild)(options.esbuild) as Esbuild;
  const inputs: Array<[string, string]> = [];
  const plugin: EsbuildPlugin = {
    name: 'gmr-job-module',
    setup(b) {
      b.onResolve({ filter: /^[^./]/ }, (args) => {
        const url = options.specifiers[args.path];
        if (url !== undefined) return { path: url, external: true };
        if (isBuiltin(args.path)) return { path: args.path, external: true };
        // A package resolves from the module's own folder, and 'gmr/x' is the hooks' error to give.
        throw new NotBundled(args.path);
      });
      b.onLoad({ filter: /.*/ }, (args) => {
        // Every file the bundle holds is hashed into its check line; other kinds stay the hooks'.
        const loader = LOADERS[path.extname(args.path)];
        if (loader === undefined) throw new NotBundled(args.path);
        const bytes = readFileSync(args.path);
        inputs.push([args.path, sha256(bytes)]);
        const contents = bytes
          .toString('utf8')
          .replace(/\bimport\.meta\.url\b/g, JSON.stringify(pathToFileURL(args.path).href))
          .replace(/\bimport\.meta\.filename\b/g, JSON.stringify(args.path))
          .replace(/\bimport\.meta\.dirname\b/g, JSON.stringify(path.dirname(args.path)));
        if (/\bimport\.meta\b/.test(contents) || /\bimport\s*\(\s*[^'"`\s]/.test(contents)) throw new NotBundled(args.path);
        return { contents, loader };
      });
    },
  };
  try {
    const result = await esbuild.build({
      entryPoints: [file],
      outfile: entry,
      bundle: true,
      write: false,
      format: 'esm',
      platform: 'node',
      target: `node${process.versions.node.split('.')[0]}`,
      sourcemap: 'inline',
      logLevel: 'silent',
      plugins: [plugin],
    });
    return { code: toJobApi(result.outputFiles[0]?.text ?? '', options), inputs };
  } catch {
    // NotBundled, or a module esbuild cannot read: the hooks load it (and report its errors).
    return undefined;
  }
}

/** The code with its `import { … } from "<gmr>"` statements pointed at the job API entry, when every name is one of its. */
function toJobApi(code: string, options: BundleOptions): string {
  const full = options.specifiers['gmr'];
  const api = options.jobApi;
  if (full === undefined || api === undefined) return code;
  const imports = [...code.matchAll(/^import\s*\{([^}]*)\}\s*from\s*"([^"]+)";$/gm)].filter((m) => m[2] === full);
  const names = imports.flatMap((m) => (m[1] ?? '').split(',').map((n) => n.trim().split(/\s+as\s+/)[0] ?? '').filter((n) => n !== ''));
  // Any other form (`import * as`, a bare import) keeps the full entry: one instance of each module either way.
  const everyImport = code.split(JSON.stringify(full)).length - 1;
  if (imports.length === 0 || imports.length !== everyImport || !names.every((n) => api.names.includes(n))) return code;
  return code.replaceAll(`from ${JSON.stringify(full)};`, `from ${JSON.stringify(api.url)};`);
}
