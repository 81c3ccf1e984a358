import { Button, Modal } from '@mantine/core';
import { IconCertificate, IconPlus } from '@tabler/icons-react';
import { useState } from 'react';
import { useApiQuery } from '../api/use-api-query';
import { notifySuccess } from '../components/notify';
import { ListSection } from '../components/list-section';
import { useIsAdministrator } from '../session/use-is-administrator';
import { CaCertificatesTable } from './ca-certificates-table';
import type { CaCertificate, CaKind } from './hsm-types';
import { IssuingCaForm } from './issuing-ca-form';

const ABOUT: Record<CaKind, string> = {
  issuing:
    'Issuing CAs sign device certificates; they chain to the OEM root. "Not used" means a CA has issued nothing yet.',
  tls: 'Certificates of this instance’s own endpoints (device API, brokers), issued by its PKI.',
  root: 'The OEM root of this instance: devices and operators pin it to trust everything else.',
};
const LABEL: Record<CaKind, string> = {
  issuing: 'Issuing certificates',
  tls: 'TLS certificates',
  root: 'OEM root certificate',
};

/** One kind of the instance's own certificates, with PEM downloads; issuing CAs can be added. */
export function CertificatesTab({ kind }: { kind: CaKind }) {
  const admin = useIsAdministrator();
  const { data, error, loading, reload } = useApiQuery<{ certificates: CaCertificate[] }>(
    '/pki/certificates',
    { kind },
  );
  const [creating, setCreating] = useState(false);
  const certs = data?.certificates ?? [];
  return (
    <>
      <ListSection
        intro={ABOUT[kind]}
        action={
          kind === 'issuing' &&
          admin && (
            <Button
              leftSection={<IconPlus size={16} aria-hidden />}
              onClick={() => setCreating(true)}
            >
              Create issuing CA
            </Button>
          )
        }
        error={error}
        errorTitle="Certificates cannot be shown"
        loading={loading}
        loadingLabel="Loading certificates"
        items={data?.certificates}
        empty={{
          icon: <IconCertificate size={32} aria-hidden />,
          title: 'None yet',
          description:
            kind === 'issuing'
              ? 'Issuing CAs are made for policies as their devices enrol; administrators can also create one here.'
              : 'The instance makes these certificates at its first start.',
        }}
      >
        <CaCertificatesTable certs={certs} label={LABEL[kind]} issuing={kind === 'issuing'} />
      </ListSection>
      <Modal
        opened={creating}
        onClose={() => setCreating(false)}
        title="Create issuing CA"
        size="lg"
      >
        {creating && (
          <IssuingCaForm
            onCancel={() => setCreating(false)}
            onSaved={(c) => {
              setCreating(false);
              notifySuccess(`Issuing CA ${c.name} is created.`);
              reload();
            }}
          />
        )}
      </Modal>
    </>
  );
}
