export interface OutboxTables {
  outbox: {
    instance_id: string;
    id: string;
    topic: string;
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
