import { createTheme } from '@mantine/core';

/**
 * The console theme. Focus rings always show for keyboard users; the primary shade is dark
 * enough for white text to keep a 4.5:1 contrast.
 */
export const theme = createTheme({
  primaryColor: 'blue',
  primaryShade: { light: 8, dark: 8 },
  focusRing: 'auto',
  defaultRadius: 'md',
  fontFamily:
    'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, "Noto Sans", sans-serif',
  headings: { fontWeight: '650' },
});
