import {
  ActionIcon,
  Alert,
  Badge,
  Button,
  Checkbox,
  Group,
  Paper,
  Select,
  Stack,
  Switch,
  Text,
  TextInput,
  Tooltip,
} from '@mantine/core';
import {
  IconArrowDown,
  IconArrowUp,
  IconClearAll,
  IconCopy,
  IconPlugConnected,
  IconPlugConnectedX,
  IconSearch,
  IconSend,
} from '@tabler/icons-react';
import { useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState } from 'react';
import { notifyError, notifySuccess } from '../components/notify';
import { PageHeader } from '../components/page-header';
import {
  BAUD_RATES,
  DEFAULT_BAUD,
  appendBounded,
  displayText,
  lineToSend,
  segments,
} from './serial-fns';
import { useSerialPort } from './use-serial-port';

/**
 * Terminal (W4): a serial console to a device on this computer's USB, in the browser (Web
 * Serial). Nothing goes through the server: the port is opened by the browser, after the user
 * picks it in the browser's own chooser.
 */
export function TerminalPage() {
  const [buffer, setBuffer] = useState('');
  const [baud, setBaud] = useState(String(DEFAULT_BAUD));
  const [autoScroll, setAutoScroll] = useState(true);
  const [cr, setCr] = useState(true);
  const [lf, setLf] = useState(true);
  const [query, setQuery] = useState('');
  const [current, setCurrent] = useState(0);
  const [line, setLine] = useState('');
  const onText = useCallback((t: string) => setBuffer((b) => appendBounded(b, t)), []);
  const serial = useSerialPort(onText);
  const out = useRef<HTMLPreElement>(null);
  const connected = serial.status === 'connected';

  const shown = useMemo(() => displayText(buffer), [buffer]);
  const parts = useMemo(() => segments(shown, query), [shown, query]);
  const matches = parts.filter((p) => p.match !== undefined).length;

  useLayoutEffect(() => {
    if (autoScroll && out.current) out.current.scrollTop = out.current.scrollHeight;
  }, [shown, autoScroll]);
  useEffect(() => setCurrent(0), [query]);
  // The current match is brought into view when the user steps through them.
  useEffect(() => {
    if (!matches) return;
    out.current?.querySelector(`[data-match="${current}"]`)?.scrollIntoView({ block: 'nearest' });
  }, [current, matches]);

  const step = (by: number) => matches && setCurrent((c) => (c + by + matches) % matches);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(shown);
      notifySuccess('The terminal text is on the clipboard.', 'Copied');
    } catch (err) {
      notifyError(err, 'Copy failed');
    }
  };
  const send = async () => {
    await serial.send(lineToSend(line, { cr, lf }));
    setLine('');
  };

  return (
    <>
      <PageHeader
        title="Terminal"
        description="A serial console to a device connected to this computer, in the browser."
      />
      <Stack>
        {!serial.supported && (
          <Alert color="orange" variant="light" title="This browser has no Web Serial">
            The terminal needs a browser with Web Serial (Chrome, Edge or another Chromium-based
            browser) and the console opened over HTTPS. The server takes no part: the port is opened
            by the browser.
          </Alert>
        )}
        {serial.error && (
          <Alert color="red" variant="light" role="alert" title="The serial port reported an error">
            {serial.error}
          </Alert>
        )}
        <Paper withBorder p="sm">
          <Group justify="space-between" align="flex-end" wrap="wrap">
            <Group align="flex-end">
              <Select
                label="Baud rate"
                w={130}
                allowDeselect={false}
                disabled={connected}
                data={BAUD_RATES.map(String)}
                value={baud}
                onChange={(b) => b && setBaud(b)}
              />
              <Button
                color={connected ? 'green.9' : 'red.9'}
                disabled={!serial.supported}
                loading={serial.status === 'connecting'}
                leftSection={
                  connected ? (
                    <IconPlugConnected size={16} aria-hidden />
                  ) : (
                    <IconPlugConnectedX size={16} aria-hidden />
                  )
                }
                onClick={() =>
                  void (connected ? serial.disconnect() : serial.connect(Number(baud)))
                }
              >
                {connected ? 'Disconnect' : 'Connect'}
              </Button>
              <Badge
                color={connected ? 'green.9' : 'gray.7'}
                size="lg"
                role="status"
                data-testid="serial-status"
              >
                {connected ? `connected at ${baud}` : 'not connected'}
              </Badge>
            </Group>
            <Group align="flex-end" gap="xs">
              <TextInput
                label="Search"
                w={200}
                leftSection={<IconSearch size={14} aria-hidden />}
                value={query}
                onChange={(e) => setQuery(e.currentTarget.value)}
                onKeyDown={(e) => {
                  if (e.key === 'Enter') step(e.shiftKey ? -1 : 1);
                }}
              />
              <Text size="xs" c="dimmed" mb={8} aria-live="polite" data-testid="search-count">
                {query ? (matches ? `${current + 1} of ${matches}` : 'no match') : ''}
              </Text>
              <ActionIcon
                variant="default"
                size="lg"
                mb={2}
                aria-label="Previous match"
                disabled={!matches}
                onClick={() => step(-1)}
              >
                <IconArrowUp size={16} aria-hidden />
              </ActionIcon>
              <ActionIcon
                variant="default"
                size="lg"
                mb={2}
                aria-label="Next match"
                disabled={!matches}
                onClick={() => step(1)}
              >
                <IconArrowDown size={16} aria-hidden />
              </ActionIcon>
              <Tooltip label="Copy everything to the clipboard">
                <ActionIcon
                  variant="default"
                  size="lg"
                  mb={2}
                  aria-label="Copy terminal text"
                  disabled={!shown}
                  onClick={() => void copy()}
                >
                  <IconCopy size={16} aria-hidden />
                </ActionIcon>
              </Tooltip>
              <Tooltip label="Clear the terminal">
                <ActionIcon
                  variant="default"
                  size="lg"
                  mb={2}
                  aria-label="Clear terminal"
                  onClick={() => setBuffer('')}
                >
                  <IconClearAll size={16} aria-hidden />
                </ActionIcon>
              </Tooltip>
            </Group>
          </Group>
        </Paper>
        <pre
          ref={out}
          role="log"
          aria-live="off"
          aria-label="Serial output"
          tabIndex={0}
          data-testid="serial-output"
          style={{
            margin: 0,
            height: '50vh',
            minHeight: 240,
            overflow: 'auto',
            padding: 12,
            borderRadius: 8,
            background: 'var(--mantine-color-dark-8)',
            color: 'var(--mantine-color-gray-0)',
            fontFamily: 'var(--mantine-font-family-monospace)',
            fontSize: 13,
            whiteSpace: 'pre-wrap',
            wordBreak: 'break-all',
          }}
        >
          {shown
            ? parts.map((p, i) =>
                p.match === undefined ? (
                  p.text
                ) : (
                  <mark
                    key={i}
                    data-match={p.match}
                    style={{
                      background:
                        p.match === current
                          ? 'var(--mantine-color-orange-4)'
                          : 'var(--mantine-color-yellow-2)',
                      color: 'var(--mantine-color-dark-9)',
                    }}
                  >
                    {p.text}
                  </mark>
                ),
              )
            : connected
              ? 'Waiting for the device…'
              : 'Choose the baud rate, then Connect and pick the device’s port.'}
        </pre>
        <Group align="flex-end" wrap="wrap">
          <TextInput
            label="Send"
            placeholder={connected ? 'Type a line and press Enter' : 'Connect first'}
            style={{ flex: 1, minWidth: 240 }}
            disabled={!connected}
            value={line}
            onChange={(e) => setLine(e.currentTarget.value)}
            onKeyDown={(e) => {
              if (e.key === 'Enter') void send();
            }}
          />
          <Button
            leftSection={<IconSend size={16} aria-hidden />}
            disabled={!connected}
            onClick={() => void send()}
          >
            Send
          </Button>
        </Group>
        <Group>
          <Switch
            label="Auto-scroll"
            checked={autoScroll}
            onChange={(e) => setAutoScroll(e.currentTarget.checked)}
          />
          <Checkbox label="Add CR" checked={cr} onChange={(e) => setCr(e.currentTarget.checked)} />
          <Checkbox label="Add LF" checked={lf} onChange={(e) => setLf(e.currentTarget.checked)} />
        </Group>
      </Stack>
    </>
  );
}
