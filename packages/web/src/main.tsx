import '@mantine/core/styles.css';
import '@mantine/notifications/styles.css';
import '@mantine/charts/styles.css';
import './app/app.css';
import { MantineProvider, localStorageColorSchemeManager } from '@mantine/core';
import { Notifications } from '@mantine/notifications';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { RouterProvider } from 'react-router';
import { createConsoleRouter } from './app/app-router';
import { theme } from './app/theme';

const root = document.getElementById('root');
if (!root) throw new Error('no #root element in index.html');

createRoot(root).render(
  <StrictMode>
    <MantineProvider
      theme={theme}
      defaultColorScheme="auto"
      colorSchemeManager={localStorageColorSchemeManager()}
    >
      {/* Bottom right: never over the header's account menu or a page's actions. */}
      <Notifications position="bottom-right" />
      <RouterProvider router={createConsoleRouter()} />
    </MantineProvider>
  </StrictMode>,
);
