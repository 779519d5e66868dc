/* secret.h — keeping passwords out of output: mask them in URLs, keyword
 * strings and command lines before anything is printed or journaled. */
#ifndef DBGUARD_SECRET_H
#define DBGUARD_SECRET_H

/* "postgres://u:pw@h/db" -> "postgres://u:****@h/db"; "password=x" -> "password=****". */
char *mask_url(const char *s);
/* Join argv with spaces (quoted where needed, as a shell would read it) with
 * secrets masked: URLs with passwords, --password=X / --password X, -pX (mysql
 * clients), and NAME=X words whose NAME is PGPASSWORD, MYSQL_PWD or
 * contains PASSWORD, PASSWD, SECRET or TOKEN.  Caller frees. */
char *mask_command(char *const argv[]);

#endif
