/** Kysely types of the background-job leases. */
export interface JobTables {
  /**
   * Who runs a background job for now: one row per job name, held by one server process
   * (replica) until `expires_at`; the holder extends it each time it runs the job.
   */
  job_leases: {
    name: string;
    holder: string;
    expires_at: string;
  };
}
