import { createMemoryStore } from '../../src/adapters/memory.js';
import { describeStoreConformance } from '../conformance/suite.js';

describeStoreConformance('memory', async () => ({ store: createMemoryStore() }));
