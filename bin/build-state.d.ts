// Types of build-state.js (plain JavaScript: bin/rkvs.js runs it before any TypeScript loader).
export declare const SOURCE_DIRS: readonly string[];
export declare const STAMP: string;
export declare function newestSourceMtime(root: string): number;
export declare function buildState(root: string): { state: 'current' | 'stale' | 'missing' | 'no-sources'; reason: string };
