/* vigie journal: check the hash-chained journal (util/journal.h). */
#ifndef VG_TOOLS_VIGIE_JOURNAL_H
#define VG_TOOLS_VIGIE_JOURNAL_H

struct vg_store;

int vigie_journal_main(int argc, char **argv);

/* The store a reading tool was pointed at: --db's location, else
 * DATA_DIR/vigie.db (default ./var). A SQLite file that does not exist is
 * refused, never created. 0 and *out, or 1 with the reason on stderr after
 * `where` ("vigie journal verify"). */
int vigie_open_existing_store(const char *where, const char *data_dir, const char *db,
                              struct vg_store **out);

#endif
