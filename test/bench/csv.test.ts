import { describe, expect, it } from 'vitest';
import {
  ERRORS_COLUMNS,
  LATENCY_COLUMNS,
  OVERHEAD_COLUMNS,
  REQUESTS_COLUMNS,
  toCsv,
} from '../../src/bench/report/csv.js';

const KEY = 'config,variant,schedule,op,value_bytes,clients,registers,workers,workload,mode,open_rate,fault';
const CELL = 'config,variant,schedule,value_bytes,clients,registers,workers,workload,mode,open_rate,fault';
const k = { value_bytes: 1024, clients: 1, registers: 8, workers: 1, workload: 'w', mode: 'closed', open_rate: 0, fault: '' };

describe('report CSV schema', () => {
  it('latency.csv has exactly the agreed columns, in order', () => {
    expect(toCsv(LATENCY_COLUMNS, []).trim()).toBe(
      `run_id,suite,${KEY},count,errors,mean_ms,p50_ms,p90_ms,p99_ms,p999_ms,max_ms,ops_per_s`,
    );
  });
  it('overhead.csv has exactly the agreed columns, in order', () => {
    expect(toCsv(OVERHEAD_COLUMNS, []).trim()).toBe(
      `run_id,${CELL},replica,phase,repeat,registers_written,objects,stored_bytes,logical_bytes,copies_per_register,overhead_ratio`,
    );
  });
  it('requests.csv has exactly the agreed columns, in order', () => {
    expect(toCsv(REQUESTS_COLUMNS, []).trim()).toBe(`run_id,${KEY},replica,ops,puts,gets,lists,removes,bytes_up,bytes_down`);
  });
  it('errors.csv has exactly the agreed columns, in order', () => {
    expect(toCsv(ERRORS_COLUMNS, []).trim()).toBe(`run_id,${KEY},kind,count`);
  });
  it('writes one header row, one line per row, quoting fields that need it', () => {
    const text = toCsv(ERRORS_COLUMNS, [
      { run_id: 'r', config: 'a,b', variant: 'regular', schedule: 'fast', op: 'write', ...k, kind: 'Timeout', count: 3 },
      { run_id: 'r', config: 'say "x"', variant: 'raw', schedule: 'none', op: 'read', ...k, fault: 'replica=s3,blackhole,at=0s', kind: 'Unavailable', count: 1 },
    ]);
    const lines = text.trimEnd().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[1]).toBe('r,"a,b",regular,fast,write,1024,1,8,1,w,closed,0,,Timeout,3');
    expect(lines[2]).toBe('r,"say ""x""",raw,none,read,1024,1,8,1,w,closed,0,"replica=s3,blackhole,at=0s",Unavailable,1');
    expect(text.includes('\r')).toBe(false);
  });
});
