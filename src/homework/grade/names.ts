/**
 * File names for feedback, one per student, made from names students chose: only
 * letters, digits, `.`, `_` and `-` (accents dropped, anything else becomes `_`), never
 * hidden (no leading dot), never a path (no slash), not a reserved device name on
 * Windows, at most 64 characters, and unique even on a case-insensitive file system.
 */
export function safeFileName(name: string): string {
  const ascii = name.normalize('NFKD').replace(/[\u0300-\u036f]/g, '');
  let base = ascii
    .replace(/[^A-Za-z0-9._-]+/g, '_')
    .replace(/_+/g, '_')
    .replace(/^[._-]+/, '')
    .slice(0, 64)
    .replace(/[._-]+$/, '');
  if (/^(con|prn|aux|nul|com\d|lpt\d)(\.|$)/i.test(base)) base = `_${base}`;
  return base || 'student';
}

/** `<name>.txt` for each student, in order, a `-2`, `-3`, … added where two would collide. */
export function feedbackNames(students: string[]): string[] {
  const used = new Set<string>();
  return students.map((s) => {
    const base = safeFileName(s);
    let name = `${base}.txt`;
    for (let k = 2; used.has(name.toLowerCase()); k++) name = `${base}-${k}.txt`;
    used.add(name.toLowerCase());
    return name;
  });
}
