/* sockets.c — see sockets.h.  The owner of a socket is the process with a
 * file descriptor on its inode; when /proc hides other users' descriptors we
 * say "unknown owner" rather than guess from the port number. */
#include "portcheck/sockets.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/msg.h"
#include "base/xalloc.h"

#define TCP_LISTEN 0x0A

static void add(struct listener_list *l, const struct listener *s)
{
	l->v = xrealloc(l->v, (l->n + 1) * sizeof *l->v);
	l->v[l->n++] = *s;
}

/* The kernel prints each 32-bit word of the address in host byte order. */
static int parse_addr(const char *hex, int v6, char *out, size_t outlen)
{
	unsigned char bytes[16];
	size_t words = v6 ? 4 : 1;
	if (strlen(hex) != words * 8)
		return -1;
	for (size_t w = 0; w < words; w++) {
		char chunk[9];
		memcpy(chunk, hex + w * 8, 8);
		chunk[8] = '\0';
		char *end;
		uint32_t word = (uint32_t)strtoul(chunk, &end, 16);
		if (*end)
			return -1;
		memcpy(bytes + w * 4, &word, 4);
	}
	return inet_ntop(v6 ? AF_INET6 : AF_INET, bytes, out, (socklen_t)outlen) ? 0 : -1;
}

static int read_table(struct listener_list *l, const char *path, const char *proto, int v6)
{
	FILE *f = fopen(path, "re");
	if (!f)
		return -1;
	char line[512];
	if (!fgets(line, sizeof line, f)) {   /* the header */
		fclose(f);
		return 0;
	}
	while (fgets(line, sizeof line, f)) {
		char local[64], remote[64];
		unsigned state;
		unsigned long inode;
		/* sl local rem st tx:rx tr:when retrnsmt uid timeout inode */
		if (sscanf(line, " %*s %63s %63s %x %*s %*s %*s %*s %*s %lu", local, remote, &state, &inode) != 4)
			continue;
		if (strcmp(proto, "tcp") == 0 && state != TCP_LISTEN)
			continue;
		char *colon = strchr(local, ':');
		if (!colon)
			continue;
		*colon = '\0';
		struct listener s;
		memset(&s, 0, sizeof s);
		snprintf(s.proto, sizeof s.proto, "%s", proto);
		s.v6 = v6;
		s.port = (int)strtol(colon + 1, NULL, 16);
		s.inode = inode;
		if (s.port == 0 || parse_addr(local, v6, s.addr, sizeof s.addr) < 0)
			continue;
		add(l, &s);
	}
	fclose(f);
	return 0;
}

static int by_inode(const void *a, const void *b)
{
	unsigned long x = ((const struct listener *)a)->inode, y = ((const struct listener *)b)->inode;
	return x < y ? -1 : x > y;
}

static void find_owners(struct listener_list *l)
{
	if (l->n == 0)
		return;
	struct listener *sorted = xmalloc(l->n * sizeof *sorted);
	memcpy(sorted, l->v, l->n * sizeof *sorted);
	qsort(sorted, l->n, sizeof *sorted, by_inode);
	DIR *proc = opendir("/proc");
	if (!proc) {
		free(sorted);
		return;
	}
	struct dirent *de;
	while ((de = readdir(proc))) {
		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		int pid = atoi(de->d_name);
		char fddir[64];
		snprintf(fddir, sizeof fddir, "/proc/%d/fd", pid);
		DIR *fds = opendir(fddir);
		if (!fds)
			continue;   /* another user's process: its descriptors are hidden */
		struct dirent *fe;
		while ((fe = readdir(fds))) {
			if (fe->d_name[0] == '.')
				continue;
			char target[64];
			ssize_t n = readlinkat(dirfd(fds), fe->d_name, target, sizeof target - 1);
			if (n <= 0)
				continue;
			target[n] = '\0';
			unsigned long inode;
			if (sscanf(target, "socket:[%lu]", &inode) != 1)
				continue;
			struct listener key = { .inode = inode };
			if (!bsearch(&key, sorted, l->n, sizeof *sorted, by_inode))
				continue;
			char comm[32] = "";
			char commpath[64];
			snprintf(commpath, sizeof commpath, "/proc/%d/comm", pid);
			FILE *cf = fopen(commpath, "re");
			if (cf) {
				if (fgets(comm, sizeof comm, cf))
					comm[strcspn(comm, "\n")] = '\0';
				fclose(cf);
			}
			/* A socket shared by a parent and its children belongs to
			 * the lowest pid: the one that opened it, usually. */
			for (size_t i = 0; i < l->n; i++)
				if (l->v[i].inode == inode && (l->v[i].pid == 0 || pid < l->v[i].pid)) {
					l->v[i].pid = pid;
					snprintf(l->v[i].comm, sizeof l->v[i].comm, "%s", comm);
				}
		}
		closedir(fds);
	}
	closedir(proc);
	free(sorted);
}

int sockets_load(struct listener_list *l)
{
	static const struct { const char *path, *proto; int v6; } tables[] = {
		{ "/proc/net/tcp", "tcp", 0 },
		{ "/proc/net/tcp6", "tcp", 1 },
		{ "/proc/net/udp", "udp", 0 },
		{ "/proc/net/udp6", "udp", 1 },
	};
	l->v = NULL;
	l->n = 0;
	int read = 0;
	for (size_t i = 0; i < sizeof tables / sizeof *tables; i++)
		if (read_table(l, tables[i].path, tables[i].proto, tables[i].v6) == 0)
			read++;
	if (!read) {
		error("cannot read the socket tables in /proc/net:");
		return -1;
	}
	find_owners(l);
	return 0;
}

void sockets_free(struct listener_list *l)
{
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

static int is_wildcard(const char *a) { return !a || !*a || strcmp(a, "0.0.0.0") == 0 || strcmp(a, "::") == 0; }

/* Addresses as 16 bytes, IPv4 mapped into IPv6, so ::ffff:127.0.0.1 and
 * 127.0.0.1 compare equal. */
static int to_bytes(const char *a, unsigned char out[16])
{
	struct in_addr v4;
	if (inet_pton(AF_INET, a, &v4) == 1) {
		memset(out, 0, 10);
		out[10] = out[11] = 0xff;
		memcpy(out + 12, &v4, 4);
		return 0;
	}
	return inet_pton(AF_INET6, a, out) == 1 ? 0 : -1;
}

static int overlaps(const char *host_ip, const struct listener *s)
{
	/* A dual-stack "::" listener also holds the IPv4 port; "0.0.0.0" only
	 * IPv4 addresses. */
	if (is_wildcard(host_ip) || strcmp(s->addr, "::") == 0)
		return 1;
	unsigned char a[16], b[16];
	if (to_bytes(host_ip, a) < 0 || to_bytes(s->addr, b) < 0)
		return 1;
	if (strcmp(s->addr, "0.0.0.0") == 0)
		return memcmp(a, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12) == 0;
	return memcmp(a, b, 16) == 0;
}

int addr_overlap(const char *a, const char *b)
{
	if (is_wildcard(a) || is_wildcard(b))
		return 1;
	unsigned char x[16], y[16];
	if (to_bytes(a, x) < 0 || to_bytes(b, y) < 0)
		return strcmp(a, b) == 0;
	return memcmp(x, y, 16) == 0;
}

const struct listener *sockets_find(const struct listener_list *l, const char *proto, const char *host_ip,
                                    int lo, int hi)
{
	for (size_t i = 0; i < l->n; i++) {
		const struct listener *s = &l->v[i];
		if (strcmp(s->proto, proto) == 0 && s->port >= lo && s->port <= hi && overlaps(host_ip, s))
			return s;
	}
	return NULL;
}

const char *listener_owner(const struct listener *s, char *buf, size_t len)
{
	if (s->pid)
		snprintf(buf, len, "pid %d (%s)", s->pid, *s->comm ? s->comm : "?");
	else
		snprintf(buf, len, "unknown owner");
	return buf;
}
