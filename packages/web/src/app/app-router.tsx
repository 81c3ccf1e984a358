import { Navigate, Outlet, createBrowserRouter, type RouteObject } from 'react-router';
import { AccountPage } from '../account/account-page';
import { NotFoundPage } from '../components/not-found-page';
import { LoginPage } from '../session/login-page';
import { RequireSession } from '../session/require-session';
import { SessionProvider } from '../session/session-provider';
import { SetupPage } from '../session/setup-page';
import { ConsoleShell } from './app-shell';
import { SCREENS } from './screens';

/**
 * Every area has a route for every signed-in user: the menu hides what a role may not use, but
 * a typed URL still opens the screen, whose API calls the server then refuses (and the screen
 * shows that refusal). Access is the server's decision, never only the console's.
 */
const screenRoutes: RouteObject[] = SCREENS.flatMap((s) => [
  { path: s.path.slice(1), element: <s.component /> },
  ...(s.subPages ?? []).map((p) => ({
    path: `${s.path.slice(1)}/${p.path}`,
    element: <p.component />,
  })),
]);

export const routes: RouteObject[] = [
  {
    element: (
      <SessionProvider>
        <Outlet />
      </SessionProvider>
    ),
    children: [
      { path: 'setup', element: <SetupPage /> },
      { path: 'login', element: <LoginPage /> },
      {
        element: (
          <RequireSession>
            <ConsoleShell />
          </RequireSession>
        ),
        children: [
          { index: true, element: <Navigate to="/dashboard" replace /> },
          ...screenRoutes,
          { path: 'account', element: <AccountPage /> },
          { path: '*', element: <NotFoundPage /> },
        ],
      },
    ],
  },
];

export const createConsoleRouter = () => createBrowserRouter(routes);
