/* Memory a device may DMA to. In the guest: 2 MiB hugepages (pinned, so
 * their physical addresses from /proc/self/pagemap stay valid). On the
 * build host: ordinary memory with made-up physical addresses above 4 GiB,
 * so a driver that confuses virtual and physical addresses is caught.
 * Each chunk is managed in 4 KiB pages; one allocation never spans chunks,
 * so it is always physically contiguous. */
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
	uint8_t *va;
	uint64_t phys;
	uint16_t run[PAGES]; /* at the first page of an allocation: its page count */
	uint8_t used[PAGES];
};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static struct chunk chunks[MAX_CHUNKS];
static unsigned nchunks;

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
	}
	for (unsigned i = 0; i < want; i++) {
		struct chunk *c = &chunks[i];
		void *va;

		if (real) {
			uint64_t last;
			va = mmap(NULL, CHUNK, PROT_READ | PROT_WRITE,
				  MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB | MAP_POPULATE | MAP_LOCKED, -1, 0);
			if (va == MAP_FAILED) {
				fprintf(stderr, "vdphost: cannot map a 2 MiB hugepage (nr_hugepages?)\n");
				return -1;
			}
			if (pagemap_phys(va, &c->phys) || pagemap_phys((uint8_t *)va + CHUNK - 4096, &last) ||
			    last != c->phys + CHUNK - 4096) {
				fprintf(stderr, "vdphost: no contiguous physical address for DMA chunk (root needed)\n");
				munmap(va, CHUNK);
				return -1;
			}
		} else {
			va = aligned_alloc(CHUNK, CHUNK);
			if (!va)
				return -1;
			c->phys = FAKE_PHYS + (uint64_t)i * 2 * CHUNK;
		}
		if (c->phys + CHUNK > PHYS_LIMIT) {
			fprintf(stderr, "vdphost: DMA chunk at %#llx is above 16 TiB, out of a legacy device's reach\n",
				(unsigned long long)c->phys);
			if (real)
				munmap(va, CHUNK);
			else
				free(va);
			return -1;
		}
		memset(va, 0, CHUNK);
		c->va = va;
		nchunks = i + 1;
	}
	return 0;
}

void *dma_alloc(size_t size, size_t align, uint64_t *phys)
{
	size_t pages = (size + 4095) / 4096, step;

	if (size == 0 || pages > PAGES)
		return NULL;
	step = align > 4096 ? align / 4096 : 1;
	pthread_mutex_lock(&mu);
	for (unsigned c = 0; c < nchunks; c++) {
		struct chunk *ch = &chunks[c];
		for (size_t p = 0; p + pages <= PAGES; p += step) {
			size_t k = 0;
			while (k < pages && !ch->used[p + k])
				k++;
			if (k < pages)
				continue;
			memset(ch->used + p, 1, pages);
			ch->run[p] = (uint16_t)pages;
			pthread_mutex_unlock(&mu);
			memset(ch->va + p * 4096, 0, pages * 4096);
			if (phys)
				*phys = ch->phys + p * 4096;
			return ch->va + p * 4096;
		}
	}
	pthread_mutex_unlock(&mu);
	return NULL;
}

static struct chunk *find(const void *va, size_t *off)
{
	for (unsigned c = 0; c < nchunks; c++) {
		uintptr_t b = (uintptr_t)chunks[c].va, a = (uintptr_t)va;
		if (a >= b && a - b < CHUNK) {
			*off = a - b;
			return &chunks[c];
		}
	}
	return NULL;
}

void dma_free(void *va)
{
	size_t off;
	struct chunk *c;

	pthread_mutex_lock(&mu);
	c = find(va, &off);
	if (!c || off % 4096 || !c->run[off / 4096]) {
		pthread_mutex_unlock(&mu);
		vh_fatal("freeing %p: not the start of a DMA allocation", va);
	}
	memset(c->used + off / 4096, 0, c->run[off / 4096]);
	c->run[off / 4096] = 0;
	pthread_mutex_unlock(&mu);
}

bool dma_phys(const void *va, uint64_t *phys)
{
	size_t off;
	struct chunk *c = find(va, &off);

	if (!c || !c->used[off / 4096])
		return false;
	*phys = c->phys + off;
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
	struct chunk *c;
	size_t r = 0;

	pthread_mutex_lock(&mu);
	c = find(va, &off);
	if (c && c->used[off / 4096]) {
		/* Walk back to the allocation's first page, then to its end. */
		page = off / 4096;
		start = page;
		while (!c->run[start] && start > 0)
			start--;
		if (c->run[start] && start + c->run[start] > page)
			r = (start + c->run[start]) * 4096 - off;
	}
	pthread_mutex_unlock(&mu);
	return r;
}
