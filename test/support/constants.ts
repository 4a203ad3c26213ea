// Values shared by the test configuration and the tests.

/** The webhook secret worker tests configure (development accepts any non-empty one). */
export const TEST_WEBHOOK_SECRET = "test-webhook-secret";
