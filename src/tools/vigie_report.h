/* vigie report: incidents' reports drawn offline, from the store itself. */
#ifndef VG_TOOLS_VIGIE_REPORT_H
#define VG_TOOLS_VIGIE_REPORT_H

int vigie_report_main(int argc, char **argv);

#endif
