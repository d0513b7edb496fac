/* vigie units: the units, their health and their certificates through
 * vigied's API. */
#ifndef VG_TOOLS_VIGIE_UNITS_H
#define VG_TOOLS_VIGIE_UNITS_H

int vigie_units_main(int argc, char **argv);

#endif
