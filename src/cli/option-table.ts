/**
 * One option table per command: its flags, their help text and how a bad flag is reported all come
 * from here, over node:util parseArgs, so every command answers `--bogus` with the same one line
 * (`Unknown option '--bogus'; see gmr worker --help`, exit 64) and prints its help the same way.
 */
import { parseArgs } from 'node:util';
import { UsageError } from '../errors.ts';

export interface Flag {
  type: 'string' | 'boolean';
  short?: string;
  /** Repeatable: the values arrive as a list (empty when the flag is absent). */
  multiple?: boolean;
  /** The value's name in the help: PATH, N, LIST. */
  value?: string;
  /** A string flag's value when it is absent. Boolean flags default to false. */
  default?: string;
  /** How the help shows the default, when not the `default` text itself (`one per core`). */
  defaultText?: string;
  /** One or more lines (separated by \n). */
  help: string;
  /** The heading the flag is listed under (`Execution:`); flags without one go under `Options:`. */
  section?: string;
}

export interface CommandTable<F extends Record<string, Flag> = Record<string, Flag>> {
  /** The command's name after `gmr` (`run`), for `see gmr run --help`. */
  name: string;
  /** The first help line after `Usage: `. */
  usage: string;
  /** Paragraphs between the usage line and the flags. */
  about?: string;
  flags: F;
  /** Whether the command takes positional arguments (`gmr run <job>`). */
  positionals?: boolean;
  /** Text after the flags (exit codes, examples). */
  footer?: string;
}

/** What parseCommand returns for a flag: booleans always, lists always, defaults filled in. */
export type FlagValue<F extends Flag> = F['type'] extends 'boolean'
  ? boolean
  : F extends { multiple: true }
    ? string[]
    : F extends { default: string }
      ? string
      : string | undefined;

export type FlagValues<F extends Record<string, Flag>> = { [K in keyof F]: FlagValue<F[K]> };

/** Declares a command's table; `const` keeps each flag's literal type for typed values. */
export function commandTable<const F extends Record<string, Flag>>(table: CommandTable<F>): CommandTable<F> {
  return table;
}

/** Flags the table does not list itself: every command takes -h/--help. */
const HELP_FLAG: Flag = { type: 'boolean', short: 'h', help: 'show this help' };

function flagsOf(table: CommandTable): Array<[string, Flag]> {
  const flags = Object.entries(table.flags);
  if ('help' in table.flags) return flags;
  const last = flags[flags.length - 1]?.[1].section;
  return [...flags, ['help', last ? { ...HELP_FLAG, section: last } : HELP_FLAG]];
}

/** parseArgs' message as one line: its hints for ambiguous values come on lines of their own. */
function oneLine(message: string): string {
  // "Unknown option '--x'. To specify a positional argument starting with a '-', …": the name is enough.
  const unknown = /^Unknown option '[^']*'/.exec(message);
  if (unknown) return unknown[0];
  return message
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .join(' ')
    .replace(/\.$/, '');
}

export interface ParsedCommand<F extends Record<string, Flag>> {
  values: FlagValues<F>;
  positionals: string[];
  /** True with -h/--help: print helpText(table) and do nothing else. */
  help: boolean;
}

/** Parses argv against the table; a bad flag is a one-line UsageError pointing at --help. */
export function parseCommand<F extends Record<string, Flag>>(table: CommandTable<F>, argv: string[]): ParsedCommand<F> {
  const options: Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }> = {};
  for (const [name, flag] of flagsOf(table)) {
    options[name] = { type: flag.type, ...(flag.short ? { short: flag.short } : {}), ...(flag.multiple ? { multiple: true } : {}) };
  }
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: table.positionals ?? false, strict: true });
  } catch (error) {
    throw new UsageError(`${oneLine(error instanceof Error ? error.message : String(error))}; see gmr ${table.name} --help`);
  }
  const values: Record<string, unknown> = {};
  for (const [name, flag] of Object.entries(table.flags)) {
    const raw = parsed.values[name];
    if (flag.type === 'boolean') values[name] = raw === true;
    else if (flag.multiple) values[name] = Array.isArray(raw) ? raw.map(String) : [];
    else values[name] = typeof raw === 'string' ? raw : flag.default;
  }
  return { values: values as FlagValues<F>, positionals: parsed.positionals, help: parsed.values['help'] === true };
}

/** The command's help: usage, about, the flags by section with their defaults, footer. */
export function helpText(table: CommandTable): string {
  const rows = flagsOf(table).map(([name, flag]) => {
    const left = `${flag.short ? `-${flag.short}, ` : '    '}--${name}${flag.value ? ` ${flag.value}` : ''}`;
    const shown = flag.defaultText ?? flag.default;
    const lines = flag.help.split('\n');
    if (shown !== undefined && shown !== '') lines[lines.length - 1] += ` [default: ${shown}]`;
    return { left, lines, section: flag.section ?? 'Options' };
  });
  const width = Math.max(20, ...rows.map((r) => r.left.length)) + 2;
  const sections = [...new Set(rows.map((r) => r.section))];
  const out = [`Usage: ${table.usage}`, ''];
  if (table.about) out.push(table.about.trimEnd(), '');
  for (const section of sections) {
    out.push(`${section}:`);
    for (const row of rows.filter((r) => r.section === section)) {
      row.lines.forEach((line, i) => out.push(`  ${(i === 0 ? row.left : '').padEnd(width)}${line}`.trimEnd()));
    }
    out.push('');
  }
  if (table.footer) out.push(table.footer.trimEnd(), '');
  return out.join('\n');
}
