/**
 * Pure parser of /etc/passwd. No I/O.
 */

/** Maps uid to login name from /etc/passwd text; the first entry for a uid wins, as getpwuid does. */
export function parsePasswd(text: string): Map<number, string> {
  const names = new Map<number, string>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const [name, , uidText] = line.split(':');
    const uid = Number(uidText);
    if (!name || uidText === undefined || uidText === '' || !Number.isInteger(uid)) continue;
    if (!names.has(uid)) names.set(uid, name);
  }
  return names;
}
