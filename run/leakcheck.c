#include "leakcheck.h"

#include <fcntl.h>
#include <string.h>
#include <unistd.h>

long jm_vma_count_no_heap(void)
{
	int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	char buf[16384], line[512];
	size_t ll = 0;
	long n = 0;
	ssize_t got;
	while ((got = read(fd, buf, sizeof(buf))) > 0) {
		for (ssize_t i = 0; i < got; i++) {
			if (buf[i] != '\n') {
				if (ll < sizeof(line) - 1)
					line[ll++] = buf[i];
				continue;
			}
			line[ll] = 0;
			if (!strstr(line, "[heap]") && !strstr(line, "[vsyscall]"))
				n++;
			ll = 0;
		}
	}
	close(fd);
	return got < 0 ? -1 : n;
}
