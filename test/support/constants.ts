// Values shared by the test configuration and the tests.

/** The webhook secret worker tests configure (development accepts any non-empty one). */
export const TEST_WEBHOOK_SECRET = "test-webhook-secret";

/**
 * The store timeout worker tests run with (STORE_TIMEOUT_MS, and the adapters tests build
 * themselves). The shipped 150 ms bounds a production store call; on a loaded 2-core test
 * machine a healthy call can take longer, and a test would then see STORE_TIMEOUT where it
 * means to test something else. Tests of the timeout itself set their own.
 */
export const TEST_STORE_TIMEOUT_MS = 10_000;

/**
 * A timeout for calls to something that never answers (a hung bridge, receiver or
 * siteverify stand-in): long enough that an answering dependency on a loaded machine is
 * never cut by it, short enough that waiting for it costs a test little.
 */
export const TEST_HANG_TIMEOUT_MS = 1_000;
