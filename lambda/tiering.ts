/**
 * Imported first by the Lambda handler and the CLI, for its one effect: V8 waits longer before
 * it hands a function to its optimizing compiler. Building the first alerts of a process runs
 * the redaction detectors' loops over a few hundred strings, enough with V8's default budget for
 * the optimizing compiler to compile dozens of functions that never run again in that process.
 * That compiling happens on another thread, which on a function of less than one vCPU (512 MB is
 * about 0.29) takes the same CPU as the scan. Measured pinned to one CPU on the
 * 400,000-record benchmark file: rules and alerts cost 100 ms of CPU with the default budget
 * and under 20 ms with this one, while gunzip and the record splitter, which run in zlib and
 * WebAssembly, are unchanged. Code that really is hot (a file with thousands of alerts, a warm
 * function's thousandth invocation) is still optimized, a little later.
 *
 * Only the tier-up budget changes, a counter V8 reads whenever it resets one; it is set before
 * any of acm-sentinel's own code has run. It is set only where it was measured: V8 11 (Node 20).
 * Later V8 releases count invocations instead (`--invocation-count-for-turbofan`) and add a
 * mid-tier compiler, Maglev, which changes what the first alerts cost; an unknown flag would also
 * print an error at every start. So on Node 22 and later, the Lambda runtime's nodejs24.x
 * included, V8 keeps its defaults until that is measured there.
 */
import { setFlagsFromString } from 'node:v8';

/** V8's default is 67,584 (bytecode executed before a function is considered for optimization). */
export const INTERRUPT_BUDGET = 1_000_000;

/** Whether this process runs the V8 the budget was measured on. */
export const TIERING_SET = process.versions.v8.startsWith('11.');

if (TIERING_SET) setFlagsFromString(`--interrupt-budget=${INTERRUPT_BUDGET}`);
