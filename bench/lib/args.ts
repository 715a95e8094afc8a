/** `--name value` flags of a benchmark script, with defaults. */
const args = process.argv.slice(2);

export function flag(name: string, fallback: string): string {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? (args[i + 1] as string) : fallback;
}

export function hasFlag(name: string): boolean {
  return args.includes(`--${name}`);
}
