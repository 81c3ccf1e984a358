import { Center, Group, Paper, Stack, Text, Title } from '@mantine/core';
import type { ReactNode } from 'react';

/** The frame of the pages before sign-in: the product name and one centred card. */
export function AuthLayout({
  title,
  children,
  width = 440,
}: {
  title: string;
  children: ReactNode;
  width?: number;
}) {
  return (
    <Center mih="100vh" p="md" component="main">
      <Stack w="100%" maw={width} gap="md">
        <Group gap="xs" justify="center">
          <img src="/favicon.svg" alt="" width={32} height={32} />
          <Text fw={700} size="xl">
            Trustlink
          </Text>
        </Group>
        <Paper withBorder shadow="sm" p="xl" radius="md">
          <Title order={1} size="h3" mb="md">
            {title}
          </Title>
          {children}
        </Paper>
      </Stack>
    </Center>
  );
}
