/**
 * Child-process entry of the data generator: `node datagen-main.js '<json job>'`; prints one JSON
 * line with the result. Started by `runDatagen`, under `eatmydata` when available.
 */
import { mergeParts, generateBacklog, generateScalePart } from './datagen.js';

const job = JSON.parse(process.argv[2] ?? '{}') as { kind: 'backlog' | 'scale-part' | 'merge' } & Record<string, unknown>;
const t0 = performance.now();
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const out: unknown = await (job.kind === 'backlog' ? generateBacklog(job as any) : job.kind === 'scale-part' ? generateScalePart(job as any) : mergeParts(job as any));
process.stdout.write(`${JSON.stringify({ ...(out as object), seconds: (performance.now() - t0) / 1000 })}\n`);
