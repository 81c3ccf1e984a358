export interface OutboxTables {
  outbox: {
    instance_id: string;
    id: string;
    /** What to do, e.g. `hub.register-device`; names the handler. */
    topic: string;
    /** What it is about (e.g. a device id), so a record can show its sync state. */
    subject: string;
    payload: string;
    /** pending, done or failed (gave up after max attempts). */
    status: string;
    attempts: number;
    next_attempt_at: string;
    locked_until: string | null;
    last_error: string | null;
    created_at: string;
    done_at: string | null;
  };
}
