/* vigie measure: declare and list measures through vigied's API. */
#ifndef VG_TOOLS_VIGIE_MEASURE_H
#define VG_TOOLS_VIGIE_MEASURE_H

int vigie_measure_main(int argc, char **argv);

#endif
