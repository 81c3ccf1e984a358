import {
  ActionIcon,
  AppShell,
  Burger,
  Group,
  Loader,
  Menu,
  NavLink,
  ScrollArea,
  Text,
  Tooltip,
  UnstyledButton,
  useComputedColorScheme,
  useMantineColorScheme,
} from '@mantine/core';
import { useDisclosure } from '@mantine/hooks';
import { IconLogout, IconMoon, IconSettings, IconSun, IconUserCircle } from '@tabler/icons-react';
import { Suspense } from 'react';
import { Link, NavLink as RouterNavLink, Outlet, useLocation } from 'react-router';
import { useSession } from '../session/session-context';
import { visibleAreas } from './nav-fns';
import { SCREENS } from './screens';

function ColourSchemeToggle() {
  const { setColorScheme } = useMantineColorScheme();
  const computed = useComputedColorScheme('light');
  const next = computed === 'dark' ? 'light' : 'dark';
  const label = `Switch to ${next} colour scheme`;
  return (
    <Tooltip label={label}>
      <ActionIcon
        variant="default"
        size="lg"
        aria-label={label}
        onClick={() => setColorScheme(next)}
      >
        {computed === 'dark' ? (
          <IconSun size={18} aria-hidden />
        ) : (
          <IconMoon size={18} aria-hidden />
        )}
      </ActionIcon>
    </Tooltip>
  );
}

function UserMenu() {
  const { user, signOut } = useSession();
  if (!user) return null;
  return (
    <Menu position="bottom-end" withinPortal>
      <Menu.Target>
        <UnstyledButton aria-label={`Account menu of ${user.username}`}>
          <Group gap={6}>
            <IconUserCircle size={22} aria-hidden />
            <Text size="sm" fw={500}>
              {user.username}
            </Text>
            <Text size="xs" c="dimmed" visibleFrom="sm">
              {user.role === 'administrator' ? 'Administrator' : 'Contributor'}
            </Text>
          </Group>
        </UnstyledButton>
      </Menu.Target>
      <Menu.Dropdown>
        <Menu.Item
          component={Link}
          to="/account"
          leftSection={<IconSettings size={16} aria-hidden />}
        >
          My account
        </Menu.Item>
        <Menu.Item
          leftSection={<IconLogout size={16} aria-hidden />}
          onClick={() => void signOut()}
        >
          Sign out
        </Menu.Item>
      </Menu.Dropdown>
    </Menu>
  );
}

/**
 * The signed-in layout: header (name, colour scheme, account), a menu of the areas the user's
 * role may use, and the current screen. A skip link lets keyboard users jump to the content.
 */
export function ConsoleShell() {
  const [opened, { toggle, close }] = useDisclosure();
  const { user } = useSession();
  const location = useLocation();
  const areas = user ? visibleAreas(SCREENS, user.role) : [];

  return (
    <AppShell
      header={{ height: 56 }}
      navbar={{ width: 230, breakpoint: 'sm', collapsed: { mobile: !opened } }}
      padding="lg"
    >
      <a href="#main" className="tl-skip-link">
        Skip to content
      </a>
      <AppShell.Header>
        <Group h="100%" px="md" justify="space-between">
          <Group gap="sm">
            <Burger
              opened={opened}
              onClick={toggle}
              hiddenFrom="sm"
              size="sm"
              aria-label={opened ? 'Close menu' : 'Open menu'}
            />
            <img src="/favicon.svg" alt="" width={26} height={26} />
            <Text fw={700} size="lg">
              Trustlink
            </Text>
          </Group>
          <Group gap="md">
            <ColourSchemeToggle />
            <UserMenu />
          </Group>
        </Group>
      </AppShell.Header>
      <AppShell.Navbar p="xs" aria-label="Main menu">
        <AppShell.Section grow component={ScrollArea}>
          <nav aria-label="Areas">
            {areas.map((a) => (
              <NavLink
                key={a.path}
                component={RouterNavLink}
                to={a.path}
                label={a.label}
                leftSection={<a.icon size={18} aria-hidden />}
                active={location.pathname === a.path || location.pathname.startsWith(`${a.path}/`)}
                onClick={close}
              />
            ))}
          </nav>
        </AppShell.Section>
      </AppShell.Navbar>
      <AppShell.Main id="main" tabIndex={-1}>
        <Suspense fallback={<Loader aria-label="Loading the screen" m="xl" />}>
          <Outlet />
        </Suspense>
      </AppShell.Main>
    </AppShell>
  );
}
