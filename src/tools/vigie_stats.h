/* vigie stats: the statistician's figures through vigied's API. */
#ifndef VG_TOOLS_VIGIE_STATS_H
#define VG_TOOLS_VIGIE_STATS_H

int vigie_stats_main(int argc, char **argv);

#endif
