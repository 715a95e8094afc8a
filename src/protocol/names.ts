/**
 * What a function name, a unique or a client id may hold. The admin text protocol prints them in
 * tab-separated lines, so a control character in one (a tab, a newline) would forge rows of
 * `status`, `workers` or `show unique jobs`; every role refuses them, and names over the limit.
 */

/** C0 controls and DEL. */
const CONTROL = /[\u0000-\u001f\u007f]/;

/** Why `value` cannot be a `what` on the wire, or undefined when it can. */
export function nameProblem(what: string, value: string, maxBytes: number): string | undefined {
  const bytes = Buffer.byteLength(value);
  if (bytes > maxBytes) return `${what} must be at most ${maxBytes} bytes, received ${bytes}`;
  const control = CONTROL.exec(value);
  if (control) {
    const code = (control[0].codePointAt(0) ?? 0).toString(16).padStart(2, '0');
    const shown = value.length > 40 ? `${JSON.stringify(value.slice(0, 40))}…` : JSON.stringify(value);
    return `${what} must not contain control characters, received 0x${code} in ${shown}`;
  }
  return undefined;
}
