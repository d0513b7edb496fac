/* vigie journal: check the hash-chained journal (util/journal.h). */
#ifndef VG_TOOLS_VIGIE_JOURNAL_H
#define VG_TOOLS_VIGIE_JOURNAL_H

int vigie_journal_main(int argc, char **argv);

#endif
