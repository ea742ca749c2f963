import type {Io} from './io.ts';
import {severityMarks} from './severity.ts';

export interface Streams {
  /** Returns false, as a stream's write does, when the reader is behind. */
  stdout(text: string): boolean;
  stderr(text: string): void;
  /** Resolves once stdout's reader has taken what was written. */
  drained(): Promise<void>;
  /** Whether stdout shows ANSI colours: a terminal does, a file or a CI system's log may not. */
  readonly colour: boolean;
}

/** PlainIo also keeps what a caller needs once the run is over. */
export interface PlainIo extends Io {
  readonly outputs: ReadonlyMap<string, string>;
  /** True once a failure was reported. */
  readonly failed: boolean;
  /** Hides the masked values in text about to be printed. */
  hide(text: string): string;
}

const MASK = '***';

/**
 * plainIo speaks to a terminal or another CI system: lines on stdout, warnings and the
 * failure on stderr with a `warning:` or `error:` prefix, and no workflow command at all.
 * Job lines are printed as they are: no runner reads them, so none can act as a command. Their
 * severity marks are coloured only when stdout shows colour.
 */
export function plainIo(streams: Streams, options: {debug: boolean}): PlainIo {
  const masks: string[] = [];
  const outputs = new Map<string, string>();
  let failed = false;
  const hide = (text: string) => masks.reduce((out, secret) => out.replaceAll(secret, MASK), text);
  const out = (line: string) => streams.stdout(`${hide(line)}\n`);
  const err = (line: string) => streams.stderr(`${hide(line)}\n`);
  return {
    get outputs() {
      return outputs;
    },
    get failed() {
      return failed;
    },
    hide,
    info: out,
    untrusted: (lines) => lines.reduce((keepingUp, line) => out(line) && keepingUp, true),
    marks: severityMarks(streams.colour),
    drained: () => streams.drained(),
    warning: (message) => err(`warning: ${message}`),
    fail: (message) => {
      failed = true;
      err(`error: ${message}`);
    },
    debug: (message) => {
      if (options.debug) err(`debug: ${message}`);
    },
    mask: (value) => {
      // As the runner does: each line of a multi-line value on its own, longest first.
      for (const line of value.split(/\r?\n/)) if (line.trim() && !masks.includes(line)) masks.push(line);
      masks.sort((a, b) => b.length - a.length);
    },
    output: (name, value) => void outputs.set(name, String(value)),
    // A terminal has no summary pane; the lines already printed say the same.
    summary: async () => {},
    // Nor a post step: a killed CLI leaves no second chance to cancel.
    remember: () => undefined,
  };
}
