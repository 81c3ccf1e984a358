import { Code, Group, Image, Stack, Text } from '@mantine/core';
import type { TotpEnrolment } from './auth-api';
import { groupSecret, qrImageSource } from './totp-fns';

/** The new authenticator: the QR code to scan, and the secret to type for apps that cannot. */
export function TotpEnrolmentPanel({ totp }: { totp: TotpEnrolment }) {
  const src = qrImageSource(totp.qrCode);
  return (
    <Stack gap="xs">
      <Text size="sm">
        Scan this QR code with an authenticator app (for example FreeOTP, Aegis or Google
        Authenticator), then enter the 6-digit code it shows.
      </Text>
      <Group justify="center">
        {src ? (
          <Image
            src={src}
            alt="QR code of the new authenticator"
            w={200}
            h={200}
            fit="contain"
            bg="white"
            p={6}
            radius="sm"
            data-testid="totp-qr"
          />
        ) : (
          <Text c="red" size="sm">
            The server sent a QR code this console cannot show; type the secret instead.
          </Text>
        )}
      </Group>
      <Text size="sm">
        Cannot scan? Enter this secret in the app:{' '}
        <Code data-testid="totp-secret" aria-label="Authenticator secret">
          {groupSecret(totp.secret)}
        </Code>
      </Text>
    </Stack>
  );
}
