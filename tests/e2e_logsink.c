/*
 * A syslog socket for the end-to-end sandbox: binds PATH (normally
 * /dev/log inside the sandbox's private /dev) and writes every
 * datagram to stdout as one line, so the test can read what the PAM
 * module told syslog.  Exits on SIGTERM.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char msg[4096];
	int fd;

	if (argc != 2 || strlen(argv[1]) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "usage: e2e_logsink SOCKET\n");
		return 2;
	}
	strcpy(sa.sun_path, argv[1]);
	unlink(argv[1]);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		perror("e2e_logsink");
		return 1;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);

	for (;;) {
		ssize_t n = recv(fd, msg, sizeof(msg) - 1, 0);

		if (n < 0)
			continue;
		/* Strip the "<PRI>" header; keep the rest as it came. */
		msg[n] = '\0';
		msg[strcspn(msg, "\n")] = '\0';
		printf("%s\n", msg[0] == '<' && strchr(msg, '>') ?
			strchr(msg, '>') + 1 : msg);
	}
}
