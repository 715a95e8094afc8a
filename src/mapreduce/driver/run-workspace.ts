/**
 * RunWorkspace: what one run holds on disk, and lets go of, whatever happens. It owns the output
 * lock, the run folder (`DIR/_temporary/<run>`, or a private temp folder without --output), the
 * plan written there, and the paths of each task's results; `dispose()` runs every cleanup that
 * was registered, last first, even when one of them throws, and is safe to call twice.
 */
import { existsSync } from 'node:fs';
import { mkdir, readdir, rm, rmdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GearmanError, OutputError } from '../../errors.ts';
import { taskFolderName } from './part-names.ts';
import { acquireOutputLock } from './run-lock.ts';
import { writePlan, type RunPlan } from './run-state.ts';

export interface RunWorkspaceOptions {
  /** The output folder (absolute); without it the run folder is a private temp folder. */
  output?: string;
  plan: RunPlan;
  /** Keep the run folder when the run fails (--resume), so that the next run can resume it. */
  keepOnFailure: boolean;
}

export class RunWorkspace {
  readonly output: string | undefined;
  readonly plan: RunPlan;
  /** The run folder: task results, and with --output the plan (`run.json`). */
  readonly folder: string;
  #committed = false;
  #keep = false;
  #cleanups: Array<() => Promise<unknown>> = [];

  private constructor(options: RunWorkspaceOptions) {
    this.output = options.output;
    this.plan = options.plan;
    this.folder = options.output ? join(options.output, '_temporary', options.plan.runId) : join(tmpdir(), `gmr-run-${options.plan.runId}`);
  }

  /**
   * Takes the output folder's lock, creates the run folder and writes the plan. When any of that
   * throws, what was already taken is given back before the error leaves.
   */
  static async open(options: RunWorkspaceOptions): Promise<RunWorkspace> {
    const workspace = new RunWorkspace(options);
    const { output } = workspace;
    try {
      if (output) {
        // A failed run leaves no output behind, not even an empty folder it created.
        const existed = existsSync(output);
        workspace.defer(() => (existed || workspace.#committed ? Promise.resolve() : rmdir(output)));
        // Another run may share _temporary; remove it only when it is empty.
        workspace.defer(() => rmdir(join(output, '_temporary')));
        workspace.defer(await acquireOutputLock(output, options.plan.runId));
      }
      // Registered only once the lock is ours: a resumed run's folder may be another live run's.
      workspace.defer(() =>
        workspace.#committed || !(options.keepOnFailure || workspace.#keep) ? rm(workspace.folder, { recursive: true, force: true }) : Promise.resolve(),
      );
      await mkdir(workspace.folder, { recursive: true });
      if (output) await writePlan(workspace.folder, options.plan);
    } catch (error) {
      await workspace.dispose();
      if (error instanceof GearmanError) throw error;
      throw new OutputError(`Cannot create the run folder ${workspace.folder}: ${(error as Error).message}`, { cause: error });
    }
    return workspace;
  }

  /** True when the run resumes an earlier one's folder (its finished map tasks are kept). */
  get resumed(): boolean {
    return this.plan.resumes > 0;
  }

  /** True when the run folder survives a crash (with --output), so finished tasks are marked. */
  get persistent(): boolean {
    return this.output !== undefined;
  }

  /** The folder one task writes its result files to. */
  taskFolder(phase: 'map' | 'reduce', index: number, step = 0): string {
    return join(this.folder, taskFolderName(phase, index, step));
  }

  /** The output was committed: keep it, and remove the run folder even with --resume. */
  markCommitted(): void {
    this.#committed = true;
  }

  /** Keep the run folder although the run did not commit (it was interrupted: --resume can finish it). */
  keep(): void {
    if (this.output !== undefined) this.#keep = true;
  }

  /**
   * After a commit: removes the run folders that earlier runs of this output abandoned (a driver
   * killed without --resume after it). The output lock is ours, so no live run owns them.
   */
  async removeAbandonedRuns(): Promise<string[]> {
    if (this.output === undefined) return [];
    const temporary = join(this.output, '_temporary');
    const removed: string[] = [];
    for (const entry of await readdir(temporary).catch(() => [] as string[])) {
      if (entry === this.plan.runId || entry.startsWith('_')) continue;
      await rm(join(temporary, entry), { recursive: true, force: true });
      removed.push(entry);
    }
    return removed;
  }

  /** Registers a cleanup for dispose(); cleanups run last registered first. */
  defer(cleanup: () => Promise<unknown>): void {
    this.#cleanups.push(cleanup);
  }

  /** Runs every cleanup once, last first; one that throws does not stop the others. */
  async dispose(): Promise<void> {
    const cleanups = this.#cleanups.reverse();
    this.#cleanups = [];
    for (const cleanup of cleanups) {
      try {
        await cleanup();
      } catch {
        // Cleanup is best effort: the folders it removes may be gone or shared.
      }
    }
  }
}
