/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * vdpblk's sequence lock (src/blk/blk_seq.h): a reader never accepts a
 * copy mixed from two versions while a writer updates the data from
 * another thread, and never waits unbounded for a writer stuck mid-update.
 * Threads: POSIX on the host, Win32 under Wine.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#ifdef _WIN32
#include <windows.h>
#else
#include <pthread.h>
#endif

#include "blk_seq.h"

#define DATA_LEN 200u           /* about the size of struct vblk_disk */
#define WRITES   200000u

static struct {
	uint32_t seq;
	uint8_t data[DATA_LEN];
	volatile int done;
} shared;

/* Every version is DATA_LEN copies of one byte: a torn copy mixes two. */
static void writer_body(void)
{
	uint8_t buf[DATA_LEN];

	for (uint32_t i = 1; i <= WRITES; i++) {
		memset(buf, (int)(i & 0xFF), sizeof(buf));
		vblk_seq_write(&shared.seq, shared.data, buf, sizeof(buf));
	}
	__atomic_store_n(&shared.done, 1, __ATOMIC_RELEASE);
}

#ifdef _WIN32
static DWORD WINAPI writer(LPVOID arg)
{
	(void)arg;
	writer_body();
	return 0;
}
#else
static void *writer(void *arg)
{
	(void)arg;
	writer_body();
	return NULL;
}
#endif

static void test_no_torn_copy(void **state)
{
	uint8_t copy[DATA_LEN];
	unsigned long good = 0, given_up = 0;

	(void)state;
	memset(&shared, 0, sizeof(shared));
#ifdef _WIN32
	HANDLE t = CreateThread(NULL, 0, writer, NULL, 0, NULL);

	assert_non_null(t);
#else
	pthread_t t;

	assert_int_equal(pthread_create(&t, NULL, writer, NULL), 0);
#endif
	while (!__atomic_load_n(&shared.done, __ATOMIC_ACQUIRE)) {
		if (!vblk_seq_read(&shared.seq, copy, shared.data, sizeof(copy), VBLK_SEQ_TRIES)) {
			given_up++;
			continue;
		}
		for (size_t i = 1; i < sizeof(copy); i++)
			if (copy[i] != copy[0])
				fail_msg("torn copy: byte %zu is %u, byte 0 is %u", i, copy[i], copy[0]);
		good++;
	}
#ifdef _WIN32
	WaitForSingleObject(t, INFINITE);
	CloseHandle(t);
#else
	pthread_join(t, NULL);
#endif
	/* The last version is there, whole. */
	assert_true(vblk_seq_read(&shared.seq, copy, shared.data, sizeof(copy), 1));
	assert_int_equal(copy[0], WRITES & 0xFF);
	assert_int_equal(copy[DATA_LEN - 1], WRITES & 0xFF);
	assert_int_equal(shared.seq, 2u * WRITES);
	print_message("%lu consistent copies, %lu bounded give-ups\n", good, given_up);
}

static void test_stuck_writer_bounded(void **state)
{
	uint32_t seq = 0;
	uint8_t data[8] = { 1, 2, 3, 4, 5, 6, 7, 8 }, copy[8];

	(void)state;
	assert_true(vblk_seq_read(&seq, copy, data, sizeof(copy), 1));
	assert_memory_equal(copy, data, sizeof(data));
	vblk_seq_write_begin(&seq);
	assert_false(vblk_seq_read(&seq, copy, data, sizeof(copy), VBLK_SEQ_TRIES));
	assert_false(vblk_seq_read(&seq, copy, data, sizeof(copy), 0));
	vblk_seq_write_end(&seq);
	assert_int_equal(seq, 2);
	assert_true(vblk_seq_read(&seq, copy, data, sizeof(copy), 1));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stuck_writer_bounded),
		cmocka_unit_test(test_no_torn_copy),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
