import { roundPoints, type Score } from '../homework/cases/run.js';

/** Grade points as a gradebook shows them: rounded to hundredths, no trailing zeros (`2.5`, `0.33`, `4`). */
export function pointsText(v: number): string {
  return String(roundPoints(v));
}

/** `7.5 of 10 points` */
export function scoreText(s: Score): string {
  return `${pointsText(s.earned)} of ${pointsText(s.max)} point${roundPoints(s.max) === 1 ? '' : 's'}`;
}
