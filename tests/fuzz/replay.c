/* make test's side of the fuzz targets: feed every file of the target's
 * corpus (tests/fuzz/corpus/NAME: seeds and kept crash inputs) to
 * LLVMFuzzerTestOneInput once, without libFuzzer. A crash fails the test
 * binary; the last "# input" line names the input. Prints TAP. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

#ifndef FUZZ_CORPUS
#error "build with -DFUZZ_CORPUS=\"tests/fuzz/corpus/NAME\""
#endif

static int cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv)
{
	const char *dir = argc > 1 ? argv[1] : FUZZ_CORPUS;
	DIR *d = opendir(dir);
	if (!d) {
		printf("not ok 1 - %s: cannot open the corpus\n", dir);
		return 1;
	}
	char **names = NULL;
	size_t n = 0;
	for (struct dirent *de; (de = readdir(d));) {
		if (de->d_name[0] == '.')
			continue;
		names = realloc(names, (n + 1) * sizeof(*names));
		names[n++] = strdup(de->d_name);
	}
	closedir(d);
	qsort(names, n, sizeof(*names), cmp);
	size_t done = 0;
	for (size_t i = 0; i < n; i++) {
		char path[4096];
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		FILE *f = fopen(path, "rb");
		struct stat st;
		if (!f || fstat(fileno(f), &st) < 0 || !S_ISREG(st.st_mode)) {
			if (f)
				fclose(f);
			continue;
		}
		uint8_t *buf = malloc((size_t)st.st_size + 1);
		size_t len = fread(buf, 1, (size_t)st.st_size, f);
		fclose(f);
		printf("# input %s (%zu bytes)\n", path, len);
		fflush(stdout);
		LLVMFuzzerTestOneInput(buf, len);
		free(buf);
		done++;
		free(names[i]);
	}
	free(names);
	printf("ok 1 - %s: %zu inputs replayed without a crash\n", dir, done);
	return done ? 0 : 1;
}
