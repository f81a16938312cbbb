/**
 * Live progress: a cli-progress bar on an interactive terminal, plain lines otherwise (pipes, CI),
 * only warnings with --no-progress. Besides the current cell, it keeps the run's overall progress:
 * cells done of the cells planned, time elapsed and an estimate of the time left. Without a bar, a
 * long cell or a long wait (emulators starting) prints a line at least every 10 s, so a log never
 * goes quiet for long.
 */
import cliProgress from 'cli-progress';

export interface Progress {
  /** The number of cells the run will measure, every configuration and check together (for the overall line). */
  plan(cells: number): void;
  /** A new cell starts: `label` describes it, `total` its measured ops (0 when it runs for a duration). */
  cell(index: number, count: number, label: string, total: number): void;
  /** One measured operation finished. */
  tick(): void;
  /** The cell ended, with a one-line result. */
  cellDone(result: string): void;
  /** A line of information (printed above the bar). */
  log(line: string): void;
  /**
   * A wait that is not a cell (a configuration opening, emulators starting): says so now, and
   * again every 10 s until the returned function is called, which says how long it took.
   */
  wait(label: string): () => void;
  stop(): void;
}

export interface ProgressOptions {
  /** 'bar' on a TTY, 'lines' elsewhere, 'quiet' only warnings. */
  mode: 'bar' | 'lines' | 'quiet';
  stream?: NodeJS.WriteStream;
  /** Longest silence without a bar, ms. @default 10000 */
  heartbeatMs?: number;
}

/** Picks the progress mode: bar on a TTY outside CI, plain lines otherwise. */
export function progressMode(enabled: boolean, stream: NodeJS.WriteStream = process.stderr): ProgressOptions['mode'] {
  if (!enabled) return 'quiet';
  if (stream.isTTY && !process.env.CI && process.env.TERM !== 'dumb') return 'bar';
  return 'lines';
}

/** `42 s`, `3m05s`, `1h02m`. */
export function fmtDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** The run's progress across cells: done, elapsed, and the time left at the pace so far. */
export class Overall {
  planned = 0;
  started = 0;
  done = 0;
  ops = 0;
  total = 0;
  readonly startMs: number;
  cellStartMs: number;

  constructor(private readonly now: () => number = Date.now) {
    this.startMs = this.cellStartMs = now();
  }

  startCell(total: number): void {
    this.started++;
    this.planned = Math.max(this.planned, this.started);
    this.ops = 0;
    this.total = total;
    this.cellStartMs = this.now();
  }

  /** Cells done, the current one counted by its share of operations. */
  fraction(): number {
    if (!this.planned) return 0;
    const current = this.started > this.done && this.total > 0 ? Math.min(1, this.ops / this.total) : 0;
    return Math.min(1, (this.done + current) / this.planned);
  }

  elapsedMs(): number {
    return this.now() - this.startMs;
  }

  /** Time left at the pace so far; undefined before anything is done. */
  etaMs(): number | undefined {
    const f = this.fraction();
    if (f <= 0 || this.done === 0) return undefined;
    return (this.elapsedMs() * (1 - f)) / f;
  }

  /** `cells 3/12, 1m02s elapsed, about 2m10s left` */
  line(): string {
    const eta = this.etaMs();
    const cells = this.planned ? `cells ${this.done}/${this.planned}` : `cells ${this.done}`;
    return `${cells}, ${fmtDuration(this.elapsedMs())} elapsed${eta === undefined ? '' : this.done >= this.planned ? '' : `, about ${fmtDuration(eta)} left`}`;
  }
}

/** A wait announced now and every `every` ms until done. */
function waitLines(write: (line: string) => void, label: string, every: number, now: () => number): () => void {
  const start = now();
  write(`${label} ...`);
  const timer = setInterval(() => write(`${label}: still waiting after ${fmtDuration(now() - start)}`), every);
  timer.unref?.();
  return () => {
    clearInterval(timer);
    // a wait of a moment needs no second line
    if (now() - start >= 1000) write(`${label}: done in ${((now() - start) / 1000).toFixed(1)} s`);
  };
}

export function createProgress(o: ProgressOptions): Progress {
  const stream = o.stream ?? process.stderr;
  const every = o.heartbeatMs ?? 10_000;
  const overall = new Overall();
  if (o.mode === 'bar') return barProgress(stream, overall, every);
  let label = '';
  let heartbeat: ReturnType<typeof setInterval> | undefined;
  const stopHeartbeat = () => {
    if (heartbeat) clearInterval(heartbeat);
    heartbeat = undefined;
  };
  const write = (line: string) => stream.write(`${line}\n`);
  return {
    plan: (cells) => void (overall.planned = Math.max(overall.planned, cells)),
    cell(index, count, l, total) {
      label = `[${index}/${count}] ${l}`;
      overall.startCell(total);
      stopHeartbeat();
      if (o.mode !== 'lines') return;
      heartbeat = setInterval(() => {
        const ops = overall.total ? `${overall.ops}/${overall.total} ops` : `${overall.ops} ops`;
        write(`${label}: ${ops} after ${fmtDuration(Date.now() - overall.cellStartMs)} (run: ${overall.line()})`);
      }, every);
      heartbeat.unref?.();
    },
    tick: () => void overall.ops++,
    cellDone(result) {
      stopHeartbeat();
      overall.done++;
      if (o.mode === 'lines') write(`${label}: ${result} (run: ${overall.line()})`);
    },
    log: write,
    wait: (l) => (o.mode === 'quiet' ? () => undefined : waitLines(write, l, every, Date.now)),
    stop: stopHeartbeat,
  };
}

/** The bar: the current cell's operations, and the run's cells, elapsed time and time left. */
function barProgress(stream: NodeJS.WriteStream, overall: Overall, every: number): Progress {
  const bar = new cliProgress.SingleBar(
    {
      stream,
      format: ' {cell} {bar} {percentage}% | {value}/{total} ops | {label} | run: {overall}',
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
  // the elapsed time and the estimate move even while no operation ends
  const refresh = setInterval(() => active && bar.update({ overall: overall.line() }), 1000);
  refresh.unref?.();
  const pause = () => {
    if (active) bar.stop();
    active = false;
  };
  const write = (line: string) => {
    pause();
    stream.write(`${line}\n`);
  };
  return {
    plan: (cells) => void (overall.planned = Math.max(overall.planned, cells)),
    cell(index, count, l, total) {
      label = l;
      cellText = `[${index}/${count}]`;
      overall.startCell(total);
      pause();
      bar.start(Math.max(total, 1), 0, { cell: cellText, label, overall: overall.line() });
      active = true;
    },
    tick() {
      overall.ops++;
      if (active) bar.increment(1, { overall: overall.line() });
    },
    cellDone(result) {
      overall.done++;
      pause();
      stream.write(`${cellText} ${label}: ${result} (run: ${overall.line()})\n`);
    },
    log: write,
    wait: (l) => waitLines(write, l, every, Date.now),
    stop() {
      clearInterval(refresh);
      pause();
    },
  };
}
