// Everything one emulator instance owns, handed to the services and the
// execution machinery (there is no module-level state).
import type {Clock} from './clock.ts';
import type {LogStore} from './logging.ts';
import type {Operations, WaitOperationBehaviour} from './operations.ts';
import type {OutOfMemoryResult} from './outcomes.ts';
import type {Protos} from './protos.ts';
import type {Store} from './store.ts';
import type {LaunchStageRefusal} from './validation.ts';

/** An image's ENTRYPOINT (`command`) and CMD (`args`). */
export interface ImageConfig {
  command?: string[];
  args?: string[];
}

export interface RuntimeOptions {
  workdir: string;
  /** When set, images not listed here do not exist. */
  images?: Record<string, ImageConfig>;
  /** Images removed from the registry after the jobs naming them were written. */
  removedImages: Set<string>;
  secrets: Record<string, string>;
  logBufferMs: number;
  killGraceMs: number;
  outOfMemory: OutOfMemoryResult;
  launchStageRefusal: LaunchStageRefusal;
  waitOperation: WaitOperationBehaviour;
}

export interface Runtime {
  options: RuntimeOptions;
  clock: Clock;
  store: Store;
  logs: LogStore;
  operations: Operations;
  protos: Protos;
}

/** The identity recorded as creator / last_modifier: the emulator has no authentication. */
export const PRINCIPAL = 'emulator@example.com';
