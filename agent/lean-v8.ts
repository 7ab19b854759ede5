import { setFlagsFromString } from 'node:v8';

/**
 * V8 settings for a small, mostly idle daemon. berth-agent waits on the control plane, the
 * Docker Engine and probe sockets; its memory budget is 60 MB with 30 containers, and Node
 * itself takes 40 of it.
 *
 * - `--no-opt`: the optimizing compiler (TurboFan) buys the agent nothing measurable (idle CPU
 *   with 30 containers is 0.4-0.6% of a core either way), but its code pages, working memory
 *   and optimized code cost 5-10 MB of resident memory, different on every run. The
 *   interpreter and the baseline compiler stay.
 * - `--semi-space-growth-factor=1`: the young generation keeps its initial size. A burst of
 *   work (30 containers starting) otherwise grows it to 16 MB, which stays resident for a
 *   while after the burst though the agent's whole live heap is under 10 MB.
 *
 * Set here rather than as command-line flags so that every way of starting the agent (the
 * bundle, the installed wrapper, a checkout) gets them; this module is imported first.
 */
setFlagsFromString('--no-opt --semi-space-growth-factor=1');
