export interface ProvisioningTables {
  provisioning_tasks: {
    instance_id: string;
    id: string;
    /** Unique per instance. */
    name: string;
    /** A DEVICE_TYPES value; decides the flash offsets and which signing keys the chip checks. */
    device_type: string;
    /** 'development' (re-programmable) or 'release' (secure boot enabled for good). */
    bootloader_kind: string;
    bootloader_firmware_id: string;
    partition_table_firmware_id: string;
    /** The initial enrolment firmware (IEF), the first application the device runs. */
    ief_firmware_id: string;
    /** Where the device IDs of provisioned devices go. */
    batch_id: string;
    created_at: string;
    updated_at: string;
  };
  provisioning_runs: {
    instance_id: string;
    id: string;
    task_id: string;
    /**
     * 'started', then 'finished' (with device_id), 'failed' (with reason), or 'abandoned' (with
     * reason) when no result came within the expiry.
     */
    status: string;
    device_id: string | null;
    reason: string | null;
    started_by: string;
    started_at: string;
    ended_at: string | null;
  };
}
