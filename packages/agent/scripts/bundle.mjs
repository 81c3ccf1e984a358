// Builds the agent into one ES module for Node 20 (dist/trustlink-agent.mjs). The PKCS#11 key
// store's native addon cannot live inside a JavaScript file: it is copied beside the bundle as
// pkcs11.node and loaded from there (docs/agent.md, "Single-file bundle").
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');
const outfile = path.join(root, 'dist', 'trustlink-agent.mjs');

/**
 * pkcs11-session.ts loads pkcs11js through createRequire (Node's ESM loader cannot list that
 * CommonJS module's exports); esbuild only follows the plain `require`, so the bundle gets the
 * plain one, defined by the banner below relative to the bundle file. It is also made lazy: the
 * addon loads on first use, so a device without a PKCS#11 token needs no pkcs11.node.
 */
const LOCAL_REQUIRE = 'const require = createRequire(import.meta.url);';
const EAGER_LOAD = "export const pkcs11js = require('pkcs11js') as typeof Pkcs11Types;";
const LAZY_LOAD = `export const pkcs11js = new Proxy({} as typeof Pkcs11Types, {
  get(_target, name) {
    let loaded;
    try {
      loaded = require('pkcs11js');
    } catch (err) {
      throw new KeyStoreUnavailableError(
        \`the PKCS#11 addon cannot be loaded: put pkcs11.node beside the bundle (\${(err as Error).message.split('\\n')[0]})\`,
      );
    }
    return loaded[name];
  },
});`;
const plainRequire = {
  name: 'plain-lazy-require-for-pkcs11js',
  setup(b) {
    b.onLoad({ filter: /pkcs11-session\.ts$/ }, async (args) => {
      const text = await readFile(args.path, 'utf8');
      for (const expected of [LOCAL_REQUIRE, EAGER_LOAD])
        if (!text.includes(expected)) throw new Error(`${args.path}: expected "${expected}"`);
      return {
        contents: text.replace(LOCAL_REQUIRE, '').replace(EAGER_LOAD, LAZY_LOAD),
        loader: 'ts',
      };
    });
  },
};

await build({
  entryPoints: [path.join(root, 'src', 'cli.ts')],
  outfile,
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  // Native addons are copied next to the bundle under their own name.
  loader: { '.node': 'copy' },
  assetNames: '[name]',
  banner: {
    js: [
      "import { createRequire as __trustlinkCreateRequire } from 'node:module';",
      'const require = __trustlinkCreateRequire(import.meta.url);',
    ].join('\n'),
  },
  plugins: [plainRequire],
  legalComments: 'none',
  logLevel: 'warning',
});
process.stdout.write(`${path.relative(process.cwd(), outfile)}\n`);
