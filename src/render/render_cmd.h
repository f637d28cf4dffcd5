/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * `flamed render` and `flamed diff`: offline rendering of folded stacks (or pprof) into an SVG
 * flame graph or folded stacks; render is a drop-in for `flamegraph.pl in.folded > out.svg`.
 */
#ifndef FLAMED_RENDER_CMD_H
#define FLAMED_RENDER_CMD_H

/* argv[0] is "render" / "diff". Returns the process exit status. */
int render_cmd__main(int argc, char **argv);
int diff_cmd__main(int argc, char **argv);

#endif
