/* Memory a device may DMA to. In the guest: 2 MiB hugepages (pinned, so
 * their physical addresses from /proc/self/pagemap stay valid), mapped in
 * order of physical address, so that hugepages the kernel handed out
 * back to back form one larger contiguous region (StorPort's uncached
 * extension and common buffers may exceed 2 MiB). On the build host:
 * ordinary memory with made-up physical addresses above 4 GiB, so a driver
 * that confuses virtual and physical addresses is caught; chunks are
 * physically adjacent in pairs only, so both cases are exercised. Managed in 4 KiB pages; an allocation spans two
 * chunks only where they are physically adjacent, so it is always
 * physically contiguous. */
#define _GNU_SOURCE
#include "vmhost.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define CHUNK       (2u << 20)
#define PAGES       (CHUNK / 4096)
#define MAX_CHUNKS  64
#define FAKE_PHYS   0x100000000ull
/* A legacy virtio device takes its ring as a 32-bit page frame number, so
 * every DMA address must stay below 16 TiB (checked, not assumed). */
#define PHYS_LIMIT  (1ull << 44)

struct chunk {
	uint8_t *va; /* base + index * CHUNK */
	uint64_t phys;
};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static struct chunk chunks[MAX_CHUNKS]; /* ascending physical addresses (guest) */
static unsigned nchunks;
static uint8_t *base; /* nchunks * CHUNK, virtually contiguous */
/* Per 4 KiB page of the pool: in use; at an allocation's first page, its page count. */
static uint8_t used[MAX_CHUNKS * PAGES];
static uint16_t run[MAX_CHUNKS * PAGES];

static int pagemap_phys(const void *va, uint64_t *phys)
{
	uint64_t ent;
	int fd = open("/proc/self/pagemap", O_RDONLY);
	off_t off = (off_t)((uintptr_t)va / 4096 * 8);

	if (fd < 0)
		return -1;
	if (pread(fd, &ent, 8, off) != 8) {
		close(fd);
		return -1;
	}
	close(fd);
	/* Bit 63 present; bits 0-54 PFN (zero without CAP_SYS_ADMIN). */
	if (!(ent >> 63) || !(ent & ((1ull << 55) - 1)))
		return -1;
	*phys = (ent & ((1ull << 55) - 1)) * 4096 + ((uintptr_t)va & 4095);
	return 0;
}

static int by_phys(const void *a, const void *b)
{
	const struct chunk *x = a, *y = b;

	return x->phys < y->phys ? -1 : x->phys > y->phys;
}

/* Hugepages of a hugetlbfs memfd, each checked to be contiguous, then
 * mapped again at base in ascending physical order. */
static int map_hugepages(unsigned want)
{
	size_t len = (size_t)want * CHUNK;
	uint8_t *tmp, *area;
	int fd = memfd_create("vdphost-dma", MFD_HUGETLB);

	if (fd < 0 || ftruncate(fd, (off_t)len)) {
		fprintf(stderr, "vdphost: cannot create %u hugepages (nr_hugepages?)\n", want);
		if (fd >= 0)
			close(fd);
		return -1;
	}
	tmp = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE | MAP_LOCKED, fd, 0);
	if (tmp == MAP_FAILED) {
		fprintf(stderr, "vdphost: cannot map %u hugepages (nr_hugepages?)\n", want);
		close(fd);
		return -1;
	}
	for (unsigned i = 0; i < want; i++) {
		uint64_t last;

		chunks[i].va = (uint8_t *)(uintptr_t)i; /* file offset / CHUNK until remapped */
		if (pagemap_phys(tmp + (size_t)i * CHUNK, &chunks[i].phys) ||
		    pagemap_phys(tmp + (size_t)i * CHUNK + CHUNK - 4096, &last) ||
		    last != chunks[i].phys + CHUNK - 4096) {
			fprintf(stderr, "vdphost: no contiguous physical address for DMA chunk (root needed)\n");
			munmap(tmp, len);
			close(fd);
			return -1;
		}
	}
	qsort(chunks, want, sizeof(chunks[0]), by_phys);
	/* A hugepage-aligned window for the ordered mapping. */
	area = mmap(NULL, len + CHUNK, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (area == MAP_FAILED) {
		munmap(tmp, len);
		close(fd);
		return -1;
	}
	base = (uint8_t *)(((uintptr_t)area + CHUNK - 1) & ~((uintptr_t)CHUNK - 1));
	for (unsigned i = 0; i < want; i++) {
		off_t off = (off_t)(uintptr_t)chunks[i].va * CHUNK;

		chunks[i].va = base + (size_t)i * CHUNK;
		if (mmap(chunks[i].va, CHUNK, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED | MAP_POPULATE | MAP_LOCKED,
			 fd, off) == MAP_FAILED) {
			fprintf(stderr, "vdphost: cannot remap DMA chunk %u\n", i);
			munmap(tmp, len);
			close(fd);
			return -1;
		}
	}
	munmap(tmp, len);
	close(fd); /* the mappings keep the pages */
	return 0;
}

int dma_pool_init(bool real, size_t bytes)
{
	unsigned want = (unsigned)((bytes + CHUNK - 1) / CHUNK);

	if (want == 0 || want > MAX_CHUNKS) {
		fprintf(stderr, "vdphost: DMA pool of %zu bytes not supported\n", bytes);
		return -1;
	}
	if (real) {
		/* Only ever raise the hugepage reserve, never shrink someone's. */
		unsigned have = 0;
		FILE *f = fopen("/proc/sys/vm/nr_hugepages", "r");
		if (f) {
			if (fscanf(f, "%u", &have) != 1)
				have = 0;
			fclose(f);
		}
		f = have < want + 2 ? fopen("/proc/sys/vm/nr_hugepages", "w") : NULL;
		if (f) {
			fprintf(f, "%u\n", want + 2);
			fclose(f);
		}
		if (map_hugepages(want))
			return -1;
	} else {
		base = aligned_alloc(CHUNK, (size_t)want * CHUNK);
		if (!base)
			return -1;
		for (unsigned i = 0; i < want; i++) {
			chunks[i].va = base + (size_t)i * CHUNK;
			chunks[i].phys = FAKE_PHYS + (uint64_t)(i + i / 2) * CHUNK;
		}
	}
	for (unsigned i = 0; i < want; i++) {
		if (chunks[i].phys + CHUNK > PHYS_LIMIT) {
			fprintf(stderr, "vdphost: DMA chunk at %#llx is above 16 TiB, out of a legacy device's reach\n",
				(unsigned long long)chunks[i].phys);
			return -1;
		}
	}
	memset(base, 0, (size_t)want * CHUNK);
	nchunks = want;
	return 0;
}

/* Pages [p, p + n) are free and physically contiguous. */
static bool usable(size_t p, size_t n)
{
	for (size_t k = 0; k < n; k++) {
		size_t q = p + k;

		if (used[q])
			return false;
		if (k && q % PAGES == 0 && chunks[q / PAGES].phys != chunks[q / PAGES - 1].phys + CHUNK)
			return false;
	}
	return true;
}

void *dma_alloc(size_t size, size_t align, uint64_t *phys)
{
	size_t pages = (size + 4095) / 4096, step, total = (size_t)nchunks * PAGES;

	if (size == 0 || pages > total || pages > UINT16_MAX)
		return NULL;
	step = align > 4096 ? align / 4096 : 1;
	pthread_mutex_lock(&mu);
	for (size_t p = 0; p + pages <= total; p += step) {
		if (!usable(p, pages))
			continue;
		memset(used + p, 1, pages);
		run[p] = (uint16_t)pages;
		pthread_mutex_unlock(&mu);
		memset(base + p * 4096, 0, pages * 4096);
		if (phys)
			*phys = chunks[p / PAGES].phys + (p % PAGES) * 4096;
		return base + p * 4096;
	}
	pthread_mutex_unlock(&mu);
	return NULL;
}

/* Byte offset of va in the pool, or false. */
static bool pool_offset(const void *va, size_t *off)
{
	uintptr_t a = (uintptr_t)va, b = (uintptr_t)base;

	if (!base || a < b || a - b >= (size_t)nchunks * CHUNK)
		return false;
	*off = a - b;
	return true;
}

void dma_free(void *va)
{
	size_t off;

	pthread_mutex_lock(&mu);
	if (!pool_offset(va, &off) || off % 4096 || !run[off / 4096]) {
		pthread_mutex_unlock(&mu);
		vh_fatal("freeing %p: not the start of a DMA allocation", va);
	}
	memset(used + off / 4096, 0, run[off / 4096]);
	run[off / 4096] = 0;
	pthread_mutex_unlock(&mu);
}

bool dma_phys(const void *va, uint64_t *phys)
{
	size_t off;

	if (!pool_offset(va, &off) || !used[off / 4096])
		return false;
	*phys = chunks[off / CHUNK].phys + off % CHUNK;
	return true;
}

bool dma_virt(uint64_t phys, void **va)
{
	for (unsigned c = 0; c < nchunks; c++)
		if (phys >= chunks[c].phys && phys - chunks[c].phys < CHUNK) {
			*va = chunks[c].va + (phys - chunks[c].phys);
			return true;
		}
	return false;
}

bool dma_chunk(unsigned i, void **va, uint64_t *phys, size_t *len)
{
	if (i >= nchunks)
		return false;
	*va = chunks[i].va;
	*phys = chunks[i].phys;
	*len = CHUNK;
	return true;
}

size_t dma_contig(const void *va)
{
	size_t off, page, start;
	size_t r = 0;

	pthread_mutex_lock(&mu);
	if (pool_offset(va, &off) && used[off / 4096]) {
		/* Walk back to the allocation's first page, then to its end. */
		page = off / 4096;
		start = page;
		while (!run[start] && start > 0)
			start--;
		if (run[start] && start + run[start] > page)
			r = (start + run[start]) * 4096 - off;
	}
	pthread_mutex_unlock(&mu);
	return r;
}
