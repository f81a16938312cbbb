import { describe, expect, it } from 'vitest';
import {
  ERRORS_COLUMNS,
  LATENCY_COLUMNS,
  OVERHEAD_COLUMNS,
  REQUESTS_COLUMNS,
  toCsv,
} from '../../src/bench/report/csv.js';

describe('report CSV schema', () => {
  it('latency.csv has exactly the agreed columns, in order', () => {
    expect(toCsv(LATENCY_COLUMNS, []).trim()).toBe(
      'run_id,suite,config,variant,schedule,op,value_bytes,clients,count,errors,mean_ms,p50_ms,p90_ms,p99_ms,p999_ms,max_ms,ops_per_s',
    );
  });
  it('overhead.csv has exactly the agreed columns, in order', () => {
    expect(toCsv(OVERHEAD_COLUMNS, []).trim()).toBe(
      'run_id,config,variant,replica,phase,registers,value_bytes,objects,stored_bytes,logical_bytes,copies_per_register,overhead_ratio',
    );
  });
  it('requests.csv has exactly the agreed columns, in order', () => {
    expect(toCsv(REQUESTS_COLUMNS, []).trim()).toBe('run_id,config,variant,op,replica,puts,gets,lists,removes,bytes_up,bytes_down');
  });
  it('errors.csv has exactly the agreed columns, in order', () => {
    expect(toCsv(ERRORS_COLUMNS, []).trim()).toBe('run_id,config,variant,schedule,op,kind,count');
  });
  it('writes one header row, one line per row, quoting fields that need it', () => {
    const text = toCsv(ERRORS_COLUMNS, [
      { run_id: 'r', config: 'a,b', variant: 'regular', schedule: 'fast', op: 'write', kind: 'Timeout', count: 3 },
      { run_id: 'r', config: 'say "x"', variant: 'raw', schedule: 'none', op: 'read', kind: 'Unavailable', count: 1 },
    ]);
    const lines = text.trimEnd().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[1]).toBe('r,"a,b",regular,fast,write,Timeout,3');
    expect(lines[2]).toBe('r,"say ""x""",raw,none,read,Unavailable,1');
    expect(text.includes('\r')).toBe(false);
  });
});
