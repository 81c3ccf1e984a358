import { Tabs } from '@mantine/core';
import type { ReactNode } from 'react';
import { useSearchParams } from 'react-router';
import { PageHeader } from '../components/page-header';
import { ManufacturingTab } from '../manufacturing/manufacturing-tab';
import { useSession } from '../session/session-context';
import { AuthCertsTab } from './auth-certs-tab';
import { CertificatesTab } from './certificates-tab';
import { tabOf, visibleTabs, type HsmTab } from './hsm-fns';
import { SigningKeysTab } from './signing-keys-tab';
import { TokensTab } from './tokens-tab';

const PANELS: Record<HsmTab, () => ReactNode> = {
  issuing: () => <CertificatesTab kind="issuing" />,
  tls: () => <CertificatesTab kind="tls" />,
  root: () => <CertificatesTab kind="root" />,
  'auth-certs': () => <AuthCertsTab />,
  tokens: () => <TokensTab />,
  manufacturing: () => <ManufacturingTab />,
  'signing-keys': () => <SigningKeysTab />,
};

/**
 * HSM (P): the instance's PKI and keys, one tab per kind. The tab is in the address
 * (`/hsm?tab=tokens`), so a tab can be linked to and survives a reload.
 */
export function HsmPage() {
  const { user } = useSession();
  const [params, setParams] = useSearchParams();
  const tab = tabOf(params.get('tab'));
  const tabs = visibleTabs(user?.role ?? 'contributor', tab);
  const Panel = PANELS[tab];
  return (
    <>
      <PageHeader
        title="HSM"
        description="Certificates of this instance’s PKI, factory CAs, enrolment tokens, manufacturing credentials and signing keys."
      />
      <Tabs
        value={tab}
        onChange={(v) => setParams(v && v !== 'issuing' ? { tab: v } : {}, { replace: true })}
        keepMounted={false}
      >
        <Tabs.List mb="md">
          {tabs.map((t) => (
            <Tabs.Tab key={t.value} value={t.value}>
              {t.label}
            </Tabs.Tab>
          ))}
        </Tabs.List>
        <Tabs.Panel value={tab}>
          <Panel />
        </Tabs.Panel>
      </Tabs>
    </>
  );
}
