import { Modal } from '@mantine/core';
import { useState } from 'react';
import { useApiQuery } from '../api/use-api-query';
import { ProblemAlert } from '../components/problem-alert';
import { notifySuccess } from '../components/notify';
import { PolicyForm } from '../policies/policy-form';
import type { Policy } from '../policies/policy-types';
import { BatchForm } from './batch-form';
import type { Batch } from './batch-types';

/**
 * The create/edit batch dialog, with a path to create the policy the batch needs without
 * losing what was typed: the batch form stays mounted (hidden) while the policy form shows.
 */
export function BatchDialog({
  opened,
  batch,
  onClose,
  onSaved,
}: {
  opened: boolean;
  batch?: Batch;
  onClose: () => void;
  onSaved: (b: Batch) => void;
}) {
  const policies = useApiQuery<{ items: Policy[] }>(opened ? '/policies' : null);
  const [creatingPolicy, setCreatingPolicy] = useState(false);
  const [chosen, setChosen] = useState<string>();
  const close = () => {
    setCreatingPolicy(false);
    setChosen(undefined);
    onClose();
  };
  const title = creatingPolicy
    ? 'Create policy'
    : batch
      ? `Edit batch ${batch.name}`
      : 'Create batch';

  return (
    <Modal opened={opened} onClose={close} title={title} size="lg">
      <ProblemAlert error={policies.error} title="Policies cannot be listed" />
      <div hidden={creatingPolicy}>
        {opened && (
          <BatchForm
            batch={batch}
            policies={policies.data?.items ?? []}
            chosenPolicyId={chosen}
            onCreatePolicy={() => setCreatingPolicy(true)}
            onCancel={close}
            onSaved={(b) => {
              close();
              onSaved(b);
            }}
          />
        )}
      </div>
      {creatingPolicy && (
        <PolicyForm
          onCancel={() => setCreatingPolicy(false)}
          onSaved={(p) => {
            notifySuccess(`Policy ${p.name} is saved and chosen for the batch.`);
            policies.reload();
            setChosen(p.id);
            setCreatingPolicy(false);
          }}
        />
      )}
    </Modal>
  );
}
