/**
 * A `trustlink serve` that dies (SIGKILL, no clean-up of any kind) when its first start asks
 * the key store to sign the OEM root certificate: the instance row and the root key exist,
 * the root certificate does not. Run as a child process by first-start-recovery.test.ts, with
 * the configuration in the environment.
 */
import { loadConfig } from '../config.js';
import { createLogger, startServer } from '../serve.js';

const config = loadConfig(process.env);
await startServer(config, createLogger(config), {
  keyStore: (ks) => ({
    ...ks,
    async sign(...args) {
      process.kill(process.pid, 'SIGKILL');
      return ks.sign(...args);
    },
  }),
});
process.stderr.write('the start was not cut short\n');
process.exit(3);
