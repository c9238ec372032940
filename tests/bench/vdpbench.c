/* vdpbench: the Linux side of `make bench`. Measures a block device the way
 * the vdphost disk benchmark (tests/vmhost/disk_test.c) measures vdpblk:
 * sequential 1 MiB writes and reads at QD1, 4 KiB random reads at QD1 and
 * QD32 (one thread per outstanding request), O_DIRECT, same duration.
 * Prints "# VDPBENCH metric value" lines; figures are never asserted.
 *
 *   vdpbench DEVICE SECONDS */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <linux/fs.h>
#include <time.h>
#include <unistd.h>

#define SEQ_BYTES (1u << 20)
#define RAND_BYTES 4096u
#define QD_MAX 32

static int fd;
static uint64_t dev_bytes;
static unsigned seconds;

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static double seq(int write)
{
	uint64_t t0 = now_ns(), end = t0 + seconds * 1000000000ull, off = 0, bytes = 0;
	void *buf;

	if (posix_memalign(&buf, 4096, SEQ_BYTES))
		return -1;
	memset(buf, 0xa5, SEQ_BYTES);
	while (now_ns() < end) {
		ssize_t n;
		if (off + SEQ_BYTES > dev_bytes)
			off = 0;
		n = write ? pwrite(fd, buf, SEQ_BYTES, (off_t)off) : pread(fd, buf, SEQ_BYTES, (off_t)off);
		if (n != (ssize_t)SEQ_BYTES) {
			fprintf(stderr, "vdpbench: %s at %llu: %s\n", write ? "write" : "read",
				(unsigned long long)off, n < 0 ? strerror(errno) : "short");
			free(buf);
			return -1;
		}
		bytes += SEQ_BYTES;
		off += SEQ_BYTES;
	}
	free(buf);
	return (double)bytes / 1e6 / ((double)(now_ns() - t0) / 1e9);
}

struct worker {
	pthread_t th;
	uint64_t end, seed, done;
	int failed;
};

static void *rand_worker(void *arg)
{
	struct worker *w = arg;
	uint64_t blocks = dev_bytes / RAND_BYTES;
	void *buf;

	if (posix_memalign(&buf, 4096, RAND_BYTES)) {
		w->failed = 1;
		return NULL;
	}
	while (now_ns() < w->end) {
		w->seed ^= w->seed << 13;
		w->seed ^= w->seed >> 7;
		w->seed ^= w->seed << 17;
		if (pread(fd, buf, RAND_BYTES, (off_t)(w->seed % blocks * RAND_BYTES)) != RAND_BYTES) {
			w->failed = 1;
			break;
		}
		w->done++;
	}
	free(buf);
	return NULL;
}

static double randread(unsigned qd)
{
	struct worker w[QD_MAX];
	uint64_t t0 = now_ns(), done = 0;
	int failed = 0;

	for (unsigned i = 0; i < qd; i++) {
		w[i] = (struct worker){ .end = t0 + seconds * 1000000000ull,
					.seed = 0x9e3779b97f4a7c15ull * (i + 1) };
		if (pthread_create(&w[i].th, NULL, rand_worker, &w[i]))
			return -1;
	}
	for (unsigned i = 0; i < qd; i++) {
		pthread_join(w[i].th, NULL);
		done += w[i].done;
		failed |= w[i].failed;
	}
	if (failed)
		fprintf(stderr, "vdpbench: a random read failed\n");
	return failed ? -1 : (double)done / ((double)(now_ns() - t0) / 1e9);
}

int main(int argc, char **argv)
{
	double v[4];

	if (argc != 3 || atoi(argv[2]) <= 0 || atoi(argv[2]) > 600) {
		fprintf(stderr, "usage: vdpbench DEVICE SECONDS\n");
		return 2;
	}
	seconds = (unsigned)atoi(argv[2]);
	fd = open(argv[1], O_RDWR | O_DIRECT);
	if (fd < 0 || ioctl(fd, BLKGETSIZE64, &dev_bytes) || dev_bytes < SEQ_BYTES) {
		printf("not ok - vdpbench: %s: %s\n", argv[1], fd < 0 ? strerror(errno) : "not a block device of 1 MiB or more");
		return 1;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("# VDPBENCH request %u\n", SEQ_BYTES);
	printf("# VDPBENCH seqwrite-1m-mbs %.1f\n", v[0] = seq(1));
	printf("# VDPBENCH seqread-1m-mbs %.1f\n", v[1] = seq(0));
	printf("# VDPBENCH randread-4k-qd1-iops %.0f\n", v[2] = randread(1));
	printf("# VDPBENCH randread-4k-qd32-iops %.0f\n", v[3] = randread(32));
	close(fd);
	for (int i = 0; i < 4; i++)
		if (v[i] < 0) {
			printf("not ok - vdpbench: measurement %d failed\n", i);
			return 1;
		}
	printf("ok - vdpbench: benchmark ran on %s (%u s per measurement)\n", argv[1], seconds);
	return 0;
}
