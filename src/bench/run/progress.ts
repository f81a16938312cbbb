/**
 * Live progress: a cli-progress bar on an interactive terminal, plain lines otherwise
 * (pipes, CI, --no-progress prints only the cell lines).
 */
import cliProgress from 'cli-progress';

export interface Progress {
  /** A new cell starts: `label` describes it, `total` its measured ops (0 when it runs for a duration). */
  cell(index: number, count: number, label: string, total: number): void;
  /** One measured operation finished. */
  tick(): void;
  /** The cell ended, with a one-line result. */
  cellDone(result: string): void;
  /** A line of information (printed above the bar). */
  log(line: string): void;
  stop(): void;
}

export interface ProgressOptions {
  /** 'bar' on a TTY, 'lines' elsewhere, 'quiet' only warnings. */
  mode: 'bar' | 'lines' | 'quiet';
  stream?: NodeJS.WriteStream;
}

/** Picks the progress mode: bar on a TTY outside CI, plain lines otherwise. */
export function progressMode(enabled: boolean, stream: NodeJS.WriteStream = process.stderr): ProgressOptions['mode'] {
  if (!enabled) return 'quiet';
  if (stream.isTTY && !process.env.CI && process.env.TERM !== 'dumb') return 'bar';
  return 'lines';
}

export function createProgress(o: ProgressOptions): Progress {
  const stream = o.stream ?? process.stderr;
  if (o.mode === 'bar') {
    const bar = new cliProgress.SingleBar(
      {
        stream,
        format: ' {cell} {bar} {percentage}% | {value}/{total} ops | {label}',
        hideCursor: true,
        clearOnComplete: true,
        etaBuffer: 50,
        fps: 5,
      },
      cliProgress.Presets.shades_classic,
    );
    let active = false;
    let label = '';
    let cellText = '';
    return {
      cell(index, count, l, total) {
        label = l;
        cellText = `[${index}/${count}]`;
        if (active) bar.stop();
        bar.start(Math.max(total, 1), 0, { cell: cellText, label });
        active = true;
      },
      tick() {
        if (active) bar.increment();
      },
      cellDone(result) {
        if (active) bar.stop();
        active = false;
        stream.write(`${cellText} ${label}: ${result}\n`);
      },
      log(line) {
        if (active) bar.stop();
        active = false;
        stream.write(`${line}\n`);
      },
      stop() {
        if (active) bar.stop();
        active = false;
      },
    };
  }
  let label = '';
  return {
    cell(index, count, l) {
      label = `[${index}/${count}] ${l}`;
    },
    tick() {},
    cellDone(result) {
      if (o.mode === 'lines') stream.write(`${label}: ${result}\n`);
    },
    log(line) {
      stream.write(`${line}\n`);
    },
    stop() {},
  };
}
