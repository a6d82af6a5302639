#ifndef SESSIONSTORE_CSQLITE_SHIM_H
#define SESSIONSTORE_CSQLITE_SHIM_H

#include <sqlite3.h>

// SQLITE_TRANSIENT is a macro casting -1 to a function pointer, which Swift cannot
// import; this constant makes "copy the bytes before returning" available by name.
static const sqlite3_destructor_type csqlite_transient = (sqlite3_destructor_type)-1;

// sqlite3_db_config is variadic, which Swift cannot call. Turning both flags off makes
// "text" an identifier only, never a string literal:
// https://www.sqlite.org/quirks.html#double_quoted_string_literals_are_accepted
static inline int csqlite_disable_double_quoted_strings(sqlite3 *db) {
    int rc = sqlite3_db_config(db, SQLITE_DBCONFIG_DQS_DML, 0, (int *)0);
    if (rc != SQLITE_OK) return rc;
    return sqlite3_db_config(db, SQLITE_DBCONFIG_DQS_DDL, 0, (int *)0);
}

// sqlite3_config is variadic too. Without memory statistics SQLite's allocator takes no
// global mutex per allocation. Only valid before SQLite is initialized in the process;
// returns SQLITE_MISUSE after.
static inline int csqlite_disable_memory_statistics(void) {
    return sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

#endif
