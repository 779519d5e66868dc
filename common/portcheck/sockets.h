/* sockets.h — ports in use on this machine, from the kernel's socket tables
 * (/proc/net/tcp, tcp6, udp, udp6), each with the process that holds it when
 * /proc/PID/fd lets us see it; an owner we cannot see stays unknown. */
#ifndef DBGUARD_SOCKETS_H
#define DBGUARD_SOCKETS_H

#include <stddef.h>

struct listener {
	char proto[4];        /* "tcp" or "udp" */
	int v6;
	char addr[46];        /* numeric; "0.0.0.0" / "::" for every interface */
	int port;
	unsigned long inode;
	int pid;              /* 0 when the owner is not visible to us */
	char comm[32];        /* program name from /proc/PID/comm, or "" */
};

struct listener_list {
	struct listener *v;
	size_t n;
};

/* TCP sockets in LISTEN state and bound UDP sockets, with owners.  0, or -1
 * when no table could be read (reported). */
int sockets_load(struct listener_list *l);
void sockets_free(struct listener_list *l);

/* The first socket of proto ("tcp"/"udp") on a port in [lo, hi] whose
 * address overlaps host_ip (NULL or "" = every interface), or NULL. */
const struct listener *sockets_find(const struct listener_list *l, const char *proto, const char *host_ip,
                                    int lo, int hi);

/* Do two bind addresses overlap ("", "0.0.0.0" and "::" are every interface)? */
int addr_overlap(const char *a, const char *b);

/* "pid 1234 (postgres)" or "unknown owner", into buf. */
const char *listener_owner(const struct listener *s, char *buf, size_t len);

#endif
