/**
 * `npm run build:kernel`: rebuilds the record splitter's WebAssembly kernel from
 * lambda/core/scan/record-splitter-kernel-source.ts and writes its bytes to
 * lambda/core/scan/record-splitter-kernel-wasm.ts. Run it after changing the kernel's source.
 */
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { kernelModuleText } from '../lambda/core/scan/record-splitter-kernel-source';

const target = path.join(__dirname, '..', 'lambda', 'core', 'scan', 'record-splitter-kernel-wasm.ts');
writeFileSync(target, kernelModuleText());
process.stdout.write(`wrote ${path.relative(process.cwd(), target)}\n`);
