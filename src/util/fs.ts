/** File-system helpers. */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';

/**
 * `mkdir -p` one level at a time: Node's recursive mkdir can spin forever on some special file
 * systems (e.g. a path under /proc), and a report directory must fail with an error instead.
 */
export async function mkdirs(dir: string): Promise<void> {
  const missing: string[] = [];
  for (let d = dir; ; ) {
    try {
      await mkdir(d);
      break;
    } catch (e) {
      const code = (e as { code?: string }).code;
      if (code === 'EEXIST') break;
      const parent = path.dirname(d);
      if (code !== 'ENOENT' || parent === d || missing.length > 256) throw e;
      missing.push(d);
      d = parent;
    }
  }
  for (const d of missing.reverse()) {
    try {
      await mkdir(d);
    } catch (e) {
      if ((e as { code?: string }).code !== 'EEXIST') throw e;
    }
  }
}
