/** The names of a run's files, in one place: task folders (`map-00003`), parts (`part-00001`). */

/** `part-00001`: a partition's file inside a map task's folder, and an output part. */
export function partName(index: number): string {
  return `part-${String(index).padStart(5, '0')}`;
}

/** The index of a `part-NNNNN` file name; undefined for other names. */
export function partIndex(name: string): number | undefined {
  const match = /^part-(\d+)$/.exec(name);
  return match ? Number(match[1]) : undefined;
}

/**
 * `map-00003`, `reduce-00001`: the folder where one task's result files are written; the tasks of
 * step 2 and later of a job of several steps are in `step2-map-00003`, ….
 */
export function taskFolderName(phase: 'map' | 'reduce', index: number, step = 0): string {
  return `${step > 0 ? `step${step + 1}-` : ''}${phase}-${String(index).padStart(5, '0')}`;
}

/** The file a last-step reduce task's key list (K frames) goes to, inside its folder. */
export const TASK_KEYS_NAME = 'keys';

/** The file a task's output frames (not partials) go to, inside its folder. */
export const TASK_OUTPUT_NAME = 'output';
