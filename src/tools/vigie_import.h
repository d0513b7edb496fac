/* vigie measure import: a measure's exported file into this centre's
 * store, offline (vigie_import.c). */
#ifndef VG_TOOLS_VIGIE_IMPORT_H
#define VG_TOOLS_VIGIE_IMPORT_H

int vigie_measure_import(int argc, char **argv);

#endif
