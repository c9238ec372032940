/*
 * Unit tests for src/serial/serial_ctrl.c: the virtio-console control
 * protocol parser (well-formed and malformed messages, out-of-state events,
 * hostile names), queue numbering, message encoding and PnP instance ids.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "serial_ctrl.h"

static uint32_t msg(uint8_t *buf, uint32_t id, uint16_t ev, uint16_t val, const char *name)
{
	uint32_t n = 0;

	ser_ctrl_build(buf, id, ev, val);
	if (name) {
		n = (uint32_t)strlen(name);
		memcpy(buf + 8, name, n);
	}
	return 8 + n;
}

static void test_init(void **state)
{
	struct ser_bus bus;

	(void)state;
	assert_int_equal(ser_bus_init(&bus, false, 0), SER_OK);
	assert_int_equal(bus.nr_ports, 1);
	assert_true(bus.port[0].present);
	assert_int_equal(ser_num_queues(&bus, false), 2);
	assert_int_equal(ser_bus_init(&bus, true, 0), SER_EINVAL);
	assert_int_equal(ser_bus_init(&bus, true, 4), SER_OK);
	assert_int_equal(ser_num_queues(&bus, true), 10);
	assert_false(bus.port[0].present);
	/* A hostile max_nr_ports is capped. */
	assert_int_equal(ser_bus_init(&bus, true, 0xffffffffu), SER_OK);
	assert_int_equal(bus.nr_ports, SER_MAX_PORTS);
	assert_int_equal(ser_num_queues(&bus, true), 2 + 2 * SER_MAX_PORTS);
}

static void test_queue_numbers(void **state)
{
	(void)state;
	assert_int_equal(ser_rxq(0), 0);
	assert_int_equal(ser_txq(0), 1);
	assert_int_equal(ser_rxq(1), 4);
	assert_int_equal(ser_txq(1), 5);
	assert_int_equal(ser_rxq(30), 62);
	assert_int_equal(ser_txq(30), 63);
}

static void test_lifecycle(void **state)
{
	struct ser_bus bus;
	uint8_t b[SER_CTRL_BUF_LEN];
	uint32_t port, n;

	(void)state;
	ser_bus_init(&bus, true, 4);
	n = msg(b, 2, VIRTIO_CONSOLE_DEVICE_ADD, 0, NULL);
	assert_int_equal(ser_ctrl_parse(&bus, b, n, &port), SER_ACT_ADD);
	assert_int_equal(port, 2);
	assert_true(bus.port[2].present);
	n = msg(b, 2, VIRTIO_CONSOLE_PORT_NAME, 0, "org.qemu.guest_agent.0");
	assert_int_equal(ser_ctrl_parse(&bus, b, n, &port), SER_ACT_NAME);
	assert_string_equal(bus.port[2].name, "org.qemu.guest_agent.0");
	n = msg(b, 2, VIRTIO_CONSOLE_PORT_OPEN, 1, NULL);
	assert_int_equal(ser_ctrl_parse(&bus, b, n, &port), SER_ACT_OPEN);
	assert_true(bus.port[2].host_open);
	assert_true(ser_guest_open(&bus, 2, true));
	assert_false(ser_guest_open(&bus, 2, true));      /* no duplicate PORT_OPEN */
	n = msg(b, 2, VIRTIO_CONSOLE_PORT_OPEN, 0, NULL);
	assert_int_equal(ser_ctrl_parse(&bus, b, n, &port), SER_ACT_OPEN);
	assert_false(bus.port[2].host_open);
	n = msg(b, 2, VIRTIO_CONSOLE_DEVICE_REMOVE, 0, NULL);
	assert_int_equal(ser_ctrl_parse(&bus, b, n, &port), SER_ACT_REMOVE);
	assert_false(bus.port[2].present);
	assert_false(bus.port[2].name_set);
	assert_false(ser_guest_open(&bus, 2, false));
	/* Hot add again after removal. */
	n = msg(b, 2, VIRTIO_CONSOLE_DEVICE_ADD, 0, NULL);
	assert_int_equal(ser_ctrl_parse(&bus, b, n, &port), SER_ACT_ADD);
	assert_int_equal(bus.rejected, 0);
}

static void test_console(void **state)
{
	struct ser_bus bus;
	uint8_t b[SER_CTRL_BUF_LEN];
	uint32_t port, n;

	(void)state;
	ser_bus_init(&bus, true, 2);
	n = msg(b, 0, VIRTIO_CONSOLE_RESIZE, 0, NULL);
	assert_int_equal(ser_ctrl_parse(&bus, b, n, &port), SER_ACT_NONE);   /* absent */
	n = msg(b, 0, VIRTIO_CONSOLE_DEVICE_ADD, 0, NULL);
	assert_int_equal(ser_ctrl_parse(&bus, b, n, &port), SER_ACT_ADD);
	n = msg(b, 0, VIRTIO_CONSOLE_RESIZE, 0, NULL);
	assert_int_equal(ser_ctrl_parse(&bus, b, n, &port), SER_ACT_NONE);   /* not a console */
	n = msg(b, 0, VIRTIO_CONSOLE_CONSOLE_PORT, 1, NULL);
	assert_int_equal(ser_ctrl_parse(&bus, b, n, &port), SER_ACT_CONSOLE);
	assert_true(bus.port[0].console);
	n = msg(b, 0, VIRTIO_CONSOLE_RESIZE, 0, NULL);
	assert_int_equal(ser_ctrl_parse(&bus, b, n, &port), SER_ACT_RESIZE);
	assert_int_equal(bus.rejected, 2);
}

static void test_malformed(void **state)
{
	struct ser_bus bus;
	uint8_t b[SER_CTRL_BUF_LEN + 16];
	uint32_t port, n, rej = 0;

	(void)state;
	ser_bus_init(&bus, true, 4);
	memset(b, 0, sizeof(b));
	/* Short, NULL, oversized. */
	assert_int_equal(ser_ctrl_parse(&bus, b, 7, &port), SER_ACT_NONE); rej++;
	assert_int_equal(ser_ctrl_parse(&bus, NULL, 8, &port), SER_ACT_NONE); rej++;
	assert_int_equal(ser_ctrl_parse(&bus, b, SER_CTRL_BUF_LEN + 1, &port), SER_ACT_NONE); rej++;
	/* Port number beyond max_nr_ports, and far beyond. */
	n = msg(b, 4, VIRTIO_CONSOLE_DEVICE_ADD, 0, NULL);
	assert_int_equal(ser_ctrl_parse(&bus, b, n, &port), SER_ACT_NONE); rej++;
	n = msg(b, 0xffffffffu, VIRTIO_CONSOLE_DEVICE_ADD, 0, NULL);
	assert_int_equal(ser_ctrl_parse(&bus, b, n, &port), SER_ACT_NONE); rej++;
	/* Unknown event, driver-only events. */
	n = msg(b, 1, 99, 0, NULL);
	assert_int_equal(ser_ctrl_parse(&bus, b, n, &port), SER_ACT_NONE); rej++;
	n = msg(b, 1, VIRTIO_CONSOLE_DEVICE_READY, 1, NULL);
	assert_int_equal(ser_ctrl_parse(&bus, b, n, &port), SER_ACT_NONE); rej++;
	n = msg(b, 1, VIRTIO_CONSOLE_PORT_READY, 1, NULL);
	assert_int_equal(ser_ctrl_parse(&bus, b, n, &port), SER_ACT_NONE); rej++;
	/* Events for a port that was never added. */
	n = msg(b, 1, VIRTIO_CONSOLE_PORT_OPEN, 1, NULL);
	assert_int_equal(ser_ctrl_parse(&bus, b, n, &port), SER_ACT_NONE); rej++;
	n = msg(b, 1, VIRTIO_CONSOLE_DEVICE_REMOVE, 0, NULL);
	assert_int_equal(ser_ctrl_parse(&bus, b, n, &port), SER_ACT_NONE); rej++;
	n = msg(b, 1, VIRTIO_CONSOLE_PORT_NAME, 0, "x");
	assert_int_equal(ser_ctrl_parse(&bus, b, n, &port), SER_ACT_NONE); rej++;
	/* Double add; trailing bytes on a fixed-size event; bad PORT_OPEN value. */
	n = msg(b, 1, VIRTIO_CONSOLE_DEVICE_ADD, 0, NULL);
	assert_int_equal(ser_ctrl_parse(&bus, b, n, &port), SER_ACT_ADD);
	assert_int_equal(ser_ctrl_parse(&bus, b, n, &port), SER_ACT_NONE); rej++;
	n = msg(b, 1, VIRTIO_CONSOLE_PORT_OPEN, 1, "junk");
	assert_int_equal(ser_ctrl_parse(&bus, b, n, &port), SER_ACT_NONE); rej++;
	n = msg(b, 1, VIRTIO_CONSOLE_PORT_OPEN, 2, NULL);
	assert_int_equal(ser_ctrl_parse(&bus, b, n, &port), SER_ACT_NONE); rej++;
	n = msg(b, 1, VIRTIO_CONSOLE_CONSOLE_PORT, 0, NULL);
	assert_int_equal(ser_ctrl_parse(&bus, b, n, &port), SER_ACT_NONE); rej++;
	assert_false(bus.port[1].host_open);
	assert_false(bus.port[1].console);
	assert_int_equal(bus.rejected, rej);
}

static void test_hostile_names(void **state)
{
	struct ser_bus bus;
	uint8_t b[SER_CTRL_BUF_LEN];
	char longname[SER_NAME_MAX + 2];
	uint32_t port, n;

	(void)state;
	ser_bus_init(&bus, true, 2);
	n = msg(b, 1, VIRTIO_CONSOLE_DEVICE_ADD, 0, NULL);
	assert_int_equal(ser_ctrl_parse(&bus, b, n, &port), SER_ACT_ADD);
	/* Empty, control characters, path separators, INF/PnP specials, embedded NUL. */
	n = msg(b, 1, VIRTIO_CONSOLE_PORT_NAME, 0, NULL);
	assert_int_equal(ser_ctrl_parse(&bus, b, n, &port), SER_ACT_NONE);
	n = msg(b, 1, VIRTIO_CONSOLE_PORT_NAME, 0, "a\nb");
	assert_int_equal(ser_ctrl_parse(&bus, b, n, &port), SER_ACT_NONE);
	n = msg(b, 1, VIRTIO_CONSOLE_PORT_NAME, 0, "..\\..\\x");
	assert_int_equal(ser_ctrl_parse(&bus, b, n, &port), SER_ACT_NONE);
	n = msg(b, 1, VIRTIO_CONSOLE_PORT_NAME, 0, "a/b");
	assert_int_equal(ser_ctrl_parse(&bus, b, n, &port), SER_ACT_NONE);
	n = msg(b, 1, VIRTIO_CONSOLE_PORT_NAME, 0, "with space");
	assert_int_equal(ser_ctrl_parse(&bus, b, n, &port), SER_ACT_NONE);
	memcpy(b + 8, "ab\0cd", 5);
	assert_int_equal(ser_ctrl_parse(&bus, b, 13, &port), SER_ACT_NONE);
	b[8] = 0xc3;
	b[9] = 0xa9;
	assert_int_equal(ser_ctrl_parse(&bus, b, 10, &port), SER_ACT_NONE);
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = 0;
	n = msg(b, 1, VIRTIO_CONSOLE_PORT_NAME, 0, longname);
	assert_int_equal(ser_ctrl_parse(&bus, b, n, &port), SER_ACT_NONE);
	assert_false(bus.port[1].name_set);
	/* A trailing NUL is fine; a second name is refused. */
	n = msg(b, 1, VIRTIO_CONSOLE_PORT_NAME, 0, "com.example.port");
	b[n++] = 0;
	assert_int_equal(ser_ctrl_parse(&bus, b, n, &port), SER_ACT_NAME);
	assert_string_equal(bus.port[1].name, "com.example.port");
	n = msg(b, 1, VIRTIO_CONSOLE_PORT_NAME, 0, "other");
	assert_int_equal(ser_ctrl_parse(&bus, b, n, &port), SER_ACT_NONE);
	assert_string_equal(bus.port[1].name, "com.example.port");
	/* Exactly SER_NAME_MAX characters fit. */
	longname[SER_NAME_MAX] = 0;
	ser_bus_init(&bus, true, 2);
	n = msg(b, 1, VIRTIO_CONSOLE_DEVICE_ADD, 0, NULL);
	ser_ctrl_parse(&bus, b, n, &port);
	n = msg(b, 1, VIRTIO_CONSOLE_PORT_NAME, 0, longname);
	assert_int_equal(ser_ctrl_parse(&bus, b, n, &port), SER_ACT_NAME);
	assert_int_equal(strlen(bus.port[1].name), SER_NAME_MAX);
}

static void test_fuzz(void **state)
{
	struct ser_bus bus;
	uint8_t b[SER_CTRL_BUF_LEN];
	uint32_t i, j, port, seed = 12345;

	(void)state;
	ser_bus_init(&bus, true, 8);
	for (i = 0; i < 200000; i++) {
		uint32_t len;

		for (j = 0; j < sizeof(b); j++) {
			seed = seed * 1103515245u + 12345u;
			b[j] = (uint8_t)(seed >> 16);
		}
		/* Bias towards plausible headers so deep paths are reached. */
		b[1] = b[2] = b[3] = 0;
		b[0] &= 15;
		b[5] = 0;
		b[4] &= 7;
		b[7] = 0;
		b[6] &= 3;
		len = (seed >> 8) % (SER_CTRL_BUF_LEN + 4);
		if (i & 1)
			len = 8;
		ser_ctrl_parse(&bus, b, len, &port);
		for (j = 0; j < SER_MAX_PORTS; j++) {
			assert_true(j < bus.nr_ports || !bus.port[j].present);
			assert_true(bus.port[j].present || (!bus.port[j].host_open && !bus.port[j].name_set));
			assert_true(strlen(bus.port[j].name) <= SER_NAME_MAX);
		}
	}
}

static void test_build_and_ids(void **state)
{
	uint8_t b[8];
	char id[12];

	(void)state;
	ser_ctrl_build(b, 0x01020304, VIRTIO_CONSOLE_PORT_READY, 1);
	assert_int_equal(b[0], 4);
	assert_int_equal(b[3], 1);
	assert_int_equal(b[4], VIRTIO_CONSOLE_PORT_READY);
	assert_int_equal(b[5], 0);
	assert_int_equal(b[6], 1);
	assert_int_equal(ser_instance_id(0, id, sizeof(id)), 1);
	assert_string_equal(id, "0");
	assert_int_equal(ser_instance_id(30, id, sizeof(id)), 2);
	assert_string_equal(id, "30");
	assert_int_equal(ser_instance_id(4294967295u, id, sizeof(id)), 10);
	assert_string_equal(id, "4294967295");
	assert_int_equal(ser_instance_id(123, id, 3), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_init),
		cmocka_unit_test(test_queue_numbers),
		cmocka_unit_test(test_lifecycle),
		cmocka_unit_test(test_console),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_hostile_names),
		cmocka_unit_test(test_fuzz),
		cmocka_unit_test(test_build_and_ids),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
