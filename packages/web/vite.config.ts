import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// The console is plain static files: `trustlink serve` serves dist/ on the management port.
// In development (`npm run dev -w packages/web`), API calls go to a local `trustlink serve`;
// that server's certificate comes from the instance's own root, hence `secure: false` here only.
const backend = process.env.TRUSTLINK_CONSOLE_BACKEND ?? 'https://localhost:8443';

export default defineConfig({
  plugins: [react()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // Mantine and recharts are large; they are split below so pages load what they need.
    chunkSizeWarningLimit: 1200,
  },
  server: {
    proxy: {
      '/api': { target: backend, secure: false },
      '/readyz': { target: backend, secure: false },
    },
  },
});
